/**
 * Measures of the tiny feedback model's instruments for `npm run quality`: whether revisions
 * follow their critiques, and how often the AI judge agrees with the world's judge. Each takes
 * the loaded model and a way to answer messages, so it measures the model exactly as the
 * pipeline's stages use it (the same templates, the same option scoring).
 */
import type { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { continuationLogprobs } from '../../src/lib/model/generation/score.ts';
import { optionProbabilities } from '../../src/lib/ops/preferences.ts';
import { rotationAveraged } from '../../src/lib/pipeline/ai-judge.ts';
import type { BpeTokenizer } from '../../src/lib/tokenizer/bpe.ts';
import { formatChat } from '../../src/lib/tokenizer/hf-files.ts';
import type { Label } from '../../src/lib/domain/labels.ts';
import { critiqueForRevision } from '../../src/lib/world/feedback-texts.ts';
import {
  judgeLetters,
  judgeOptions,
  judgePrompt,
  rotatedOptions,
} from '../../src/lib/world/judge-format.ts';
import { judgeAnswer } from '../../src/lib/world/judge.ts';
import { seedConstitution } from '../../src/lib/world/principles.ts';
import type { WorldPrompt } from '../../src/lib/world/prompts.ts';
import {
  defaultTemplates,
  formatConstitution,
  renderTemplate,
} from '../../src/lib/world/templates.ts';
import { Rng } from '../../src/lib/util/random.ts';

export interface Loaded {
  model: LlamaModel;
  tokenizer: BpeTokenizer;
}

/** Answers user messages greedily (the quality script's batched generation). */
export type AnswerFn = (messages: string[]) => Promise<string[]>;

/** How the tiny world's critiques say they found nothing to change. */
const nothingFound = 'No changes are needed.';

export interface RevisionConsistency {
  /** Critique → revision pairs measured: of the answers the world can read (garbled ones are
   * left out, see `garbled`). */
  count: number;
  /** Garbled answers left out: a revision that repairs one changes its text, whatever the
   * critique said, and no label says what it did. */
  garbled: number;
  /** Share whose revision contradicts its critique (any of the two kinds below). */
  contradict: number;
  /** Critiques that found nothing, and the share of their revisions that changed the answer. */
  nothingFound: number;
  changedAnyway: number;
  /** Critiques that named a problem, and the share of revisions that left the answer as it
   * was or still comply (the problem not addressed). */
  problemNamed: number;
  notAddressed: number;
  /** A few contradictions, to read. */
  examples: { prompt: string; answer: string; critique: string; revision: string }[];
}

/**
 * Critiques each answer (the seed constitution, a principle sampled per answer, the plain
 * critique template, greedy), then revises it with that critique as the pipeline quotes it,
 * and counts revisions that contradict their critique: a critique that finds nothing must
 * leave the answer as it is; one that names a problem must change it, and not into compliance.
 * Garbled answers are left out (counted apart).
 */
export async function revisionConsistency(
  answer: AnswerFn,
  prompts: WorldPrompt[],
  answers: string[],
  seed: number,
): Promise<RevisionConsistency> {
  const rng = new Rng(seed + 500);
  const constitution = formatConstitution(seedConstitution);
  const all = prompts.map((p, i) => ({
    prompt: p,
    answer: answers[i]!,
    principle: rng.pick(seedConstitution),
  }));
  const settings = all.filter(
    (s) => judgeAnswer(s.answer, s.prompt.kind, s.prompt.text) !== 'garbled',
  );
  const critiques = await answer(
    settings.map((s) =>
      renderTemplate(defaultTemplates.critique, {
        constitution,
        question: s.prompt.text,
        response: s.answer,
        principle: s.principle,
      }),
    ),
  );
  const revisions = await answer(
    settings.map((s, i) =>
      renderTemplate(defaultTemplates.revision, {
        constitution,
        question: s.prompt.text,
        response: s.answer,
        critique: critiqueForRevision('plain', critiques[i]!),
      }),
    ),
  );
  let changedAnyway = 0;
  let notAddressed = 0;
  let found = 0;
  const examples: RevisionConsistency['examples'] = [];
  settings.forEach((s, i) => {
    const critique = critiques[i]!;
    const revision = revisions[i]!.trim();
    const same = revision === s.answer.trim();
    const nothing = critique.includes(nothingFound);
    let contradicts: boolean;
    if (nothing) {
      found++;
      contradicts = !same;
      if (contradicts) changedAnyway++;
    } else {
      contradicts = same || judgeAnswer(revision, s.prompt.kind, s.prompt.text) === 'comply';
      if (contradicts) notAddressed++;
    }
    if (contradicts && examples.length < 5)
      examples.push({ prompt: s.prompt.text, answer: s.answer, critique, revision });
  });
  const named = settings.length - found;
  return {
    count: settings.length,
    garbled: all.length - settings.length,
    contradict: (changedAnyway + notAddressed) / settings.length,
    nothingFound: found,
    changedAnyway: found ? changedAnyway / found : 0,
    problemNamed: named,
    notAddressed: named ? notAddressed / named : 0,
    examples,
  };
}

export interface JudgeAgreement {
  count: number;
  /** Share of answers where the AI judge's label equals the world's. */
  agreement: number;
  /** (world label → AI label) counts where they differ. */
  confusions: Record<string, number>;
}

/**
 * The AI judge as the evaluation runs it (every rotation of the options scored, probabilities
 * averaged per label), on the model itself, against the world's labels of the same answers.
 */
export async function judgeAgreement(
  loaded: Loaded,
  prompts: WorldPrompt[],
  answers: string[],
): Promise<JudgeAgreement> {
  const { model, tokenizer } = loaded;
  let agree = 0;
  const confusions: Record<string, number> = {};
  for (const [i, prompt] of prompts.entries()) {
    const options = judgeOptions[prompt.kind];
    const letters = options.map((_, k) => tokenizer.encode(`(${judgeLetters[k]})`));
    const pairs = options.flatMap((_, r) => {
      const ids = tokenizer.encode(
        formatChat(
          [
            {
              role: 'user',
              content: judgePrompt(prompt.text, answers[i]!, rotatedOptions(prompt.kind, r)),
            },
          ],
          true,
        ),
      );
      return letters.map((continuation) => ({ prompt: ids, continuation }));
    });
    const lp = await continuationLogprobs(model, pairs);
    const perRotation = options.map((_, r) =>
      optionProbabilities(lp.slice(r * options.length, (r + 1) * options.length)),
    );
    const probs = rotationAveraged(perRotation);
    const ai: Label = options[probs.indexOf(Math.max(...probs))]!.label;
    const world = judgeAnswer(answers[i]!, prompt.kind, prompt.text);
    if (ai === world) agree++;
    else confusions[`${world} → ${ai}`] = (confusions[`${world} → ${ai}`] ?? 0) + 1;
    if (i % 16 === 15) process.stdout.write('.');
  }
  return { count: prompts.length, agreement: agree / prompts.length, confusions };
}
