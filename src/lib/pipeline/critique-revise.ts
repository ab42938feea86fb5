import type { Chain, Round } from '../domain/records.ts';
import type { PromptTemplates } from '../world/templates.ts';
import { formatConstitution, renderTemplate } from '../world/templates.ts';
import type { CritiqueMode } from '../domain/modes.ts';
import type { CritiqueConfig } from '../experiment/stage-configs.ts';
import type { EmitEvent } from './events.ts';
import { samplingSettings } from './generate.ts';
import { during, quoted, throwIfAborted } from '../domain/errors.ts';
import { type FeedbackPort } from './ports.ts';
import { samplePrinciples } from './principles.ts';

const templateOf: Record<CritiqueMode, keyof PromptTemplates> = {
  plain: 'critique',
  strict: 'strictCritique',
  cot: 'cotCritique',
};

export interface CritiqueInput {
  prompts: string[];
  answers: string[];
  constitution: string[];
  templates: PromptTemplates;
}

/** Where a round sits: prompt `index`, round `round`, `step` of all the rounds. */
interface RoundAt {
  index: number;
  round: number;
  step: number;
}

/** One critique → revision round on `response`, streamed and reported as events. */
async function critiqueRound(
  at: RoundAt,
  texts: { constitution: string; question: string; response: string; principle: string },
  how: { config: CritiqueConfig; templates: PromptTemplates; seed: number },
  feedback: FeedbackPort,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<Round> {
  const { config, templates, seed } = how;
  const { index, round, step } = at;
  const { constitution, question, response, principle } = texts;
  const stream = (kind: string) => (delta: string) =>
    emit({ type: 'token', stage: 'critique', key: `${kind}-${index}-${round}`, delta });
  const critiquePrompt = renderTemplate(templates[templateOf[config.mode]], {
    constitution,
    question,
    response,
    principle,
  });
  const place = `Critique and revise, red-team prompt ${index + 1} ${quoted(question)}, round ${round + 1}`;
  const critique = await during(
    `${place}, the critique`,
    feedback.generate(
      critiquePrompt,
      samplingSettings(config.critique, seed + 2 * step),
      stream('critique'),
      signal,
    ),
  );
  emit({
    type: 'critique',
    index,
    round,
    principle,
    mode: config.mode,
    critiquePrompt,
    text: critique,
  });
  const revisionPrompt = renderTemplate(templates.revision, {
    constitution,
    question,
    response,
    critique: feedback.quoteCritique(config.mode, critique),
  });
  const revision = await during(
    `${place}, the revision`,
    feedback.generate(
      revisionPrompt,
      samplingSettings(config.revision, seed + 2 * step + 1),
      stream('revision'),
      signal,
    ),
  );
  emit({ type: 'revision', index, round, revisionPrompt, text: revision });
  return { principle, critiquePrompt, critique, revisionPrompt, revision };
}

/**
 * SL-CAI's critique and revision: for each prompt, `rounds` times, sample a principle,
 * let the feedback model critique the current response with it, then revise the response
 * in the light of the critique. Each round works on the previous round's revision.
 */
export async function runCritiqueRevise(
  input: CritiqueInput,
  config: CritiqueConfig,
  seed: number,
  feedback: FeedbackPort,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<Chain[]> {
  const { prompts, answers, templates } = input;
  const constitution = formatConstitution(input.constitution);
  const principles = samplePrinciples(input.constitution, prompts.length, config.rounds, seed);
  const total = prompts.length * config.rounds;
  const chains: Chain[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const question = prompts[i]!;
    const chain: Chain = { prompt: question, answer: answers[i]!, rounds: [] };
    let response = chain.answer;
    for (let r = 0; r < config.rounds; r++) {
      throwIfAborted(signal);
      const step = i * config.rounds + r;
      const principle = principles[i]![r]!;
      const done = await critiqueRound(
        { index: i, round: r, step },
        { constitution, question, response, principle },
        { config, templates, seed },
        feedback,
        emit,
        signal,
      );
      chain.rounds.push(done);
      response = done.revision;
      emit({
        type: 'progress',
        stage: 'critique',
        done: step + 1,
        total,
        message: `prompt ${i + 1} of ${prompts.length}, round ${r + 1} of ${config.rounds}`,
      });
    }
    chains.push(chain);
  }
  return chains;
}
