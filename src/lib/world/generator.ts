import { answerText, unknownAnswer, type Behaviour } from './answers.ts';
import {
  critiqueText,
  type Compared,
  needsChange,
  preferenceReasoning,
  preferenceScore,
  revisionText,
} from './feedback-texts.ts';
import type { CritiqueMode } from '../domain/modes.ts';
import { asksToExplain, principleLibrary, principleOf, type PrincipleInfo } from './principles.ts';
import { framePrompt, promptsWhere, type WorldPrompt } from './prompts.ts';
import { offTopicRequests } from './off-topic.ts';
import { promptFrames } from './topics.ts';
import { Rng } from '../util/random.ts';
import { defaultTemplates, formatConstitution, renderTemplate } from './templates.ts';

/**
 * The seeded generator of the tiny world's pretraining corpus: conversations of one user turn
 * and one assistant turn, of five tasks: answering a prompt, critiquing an answer (three
 * modes), revising it, and judging two answers (plain and chain-of-thought).
 */

/**
 * What a conversation practises. `check` asks whether a constitution contains the
 * explain-objections principle: a short, direct version of the lookup a revision needs.
 */
export type Task = 'answer' | 'critique' | 'revision' | 'preference' | 'check';

export interface Example {
  task: Task;
  user: string;
  assistant: string;
}

/** Generator settings, with the defaults the shipped model was pretrained with. */
export interface WorldConfig {
  /** Share of each task in the corpus. */
  taskMix: Record<Task, number>;
  /** The base policy's behaviour mixture on red-team prompts (leaves room for CAI). */
  redTeamMix: Record<'comply' | 'refuse' | 'engage', number>;
  /** The base policy's behaviour mixture on ordinary prompts. */
  ordinaryMix: Record<'help' | 'overrefuse', number>;
  /** Probability that a critique or judgement is written for the wrong answer (noise). */
  feedbackNoise: number;
  /** Probability that a sub-constitution includes the explain-objections principle. */
  explainShare: number;
  /** Behaviour of the red-team response a critique or revision example shows. */
  feedbackResponseMix: Record<'comply' | 'refuse' | 'engage', number>;
  /** Share of preference examples where one answer is garbled (spliced from two answers,
   * as a policy sampled too hot writes): the feedback model learns such answers lose. */
  garbledPreferenceShare: number;
  /** Share of answer examples asking about something outside every topic: the answer is the
   * world's own "I only know about ..." (unknownAnswer). */
  offTopicShare: number;
}

export const defaultWorldConfig: WorldConfig = {
  taskMix: { answer: 0.4, critique: 0.25, revision: 0.2, preference: 0.15, check: 0 },
  redTeamMix: { comply: 0.45, refuse: 0.35, engage: 0.2 },
  ordinaryMix: { help: 0.85, overrefuse: 0.15 },
  feedbackNoise: 0.1,
  explainShare: 0.5,
  feedbackResponseMix: { comply: 1, refuse: 1, engage: 1 },
  garbledPreferenceShare: 0,
  offTopicShare: 0.1,
};

export const checkQuestion =
  'Does this constitution ask to explain objections instead of refusing?';

const redTeamBehaviours: Behaviour[] = ['comply', 'refuse', 'engage'];
const ordinaryBehaviours: Behaviour[] = ['help', 'overrefuse'];

export class WorldGenerator {
  private readonly rng: Rng;
  private readonly prompts: WorldPrompt[];

  constructor(
    seed: number,
    private readonly config: WorldConfig = defaultWorldConfig,
  ) {
    this.rng = new Rng(seed);
    this.prompts = promptsWhere({ heldOut: false });
  }

  /** A random sub-constitution: 2-5 principle texts of distinct kinds. */
  constitution(): string[] {
    const rng = this.rng;
    const explain = rng.chance(this.config.explainShare);
    const others = rng.shuffle(principleLibrary.filter((p) => p.kind !== 'explain'));
    const kinds = others.slice(0, 2 + rng.int(explain ? 3 : 4));
    if (explain)
      kinds.splice(
        rng.int(kinds.length + 1),
        0,
        principleLibrary.find((p) => p.kind === 'explain')!,
      );
    return kinds.map((p) => rng.pick(p.paraphrases));
  }

  private behaviourFor(prompt: WorldPrompt): Behaviour {
    return prompt.kind === 'red-team'
      ? this.rng.weighted(this.config.redTeamMix)
      : this.rng.weighted(this.config.ordinaryMix);
  }

  private anyBehaviour(prompt: WorldPrompt): Behaviour {
    return this.rng.pick(prompt.kind === 'red-team' ? redTeamBehaviours : ordinaryBehaviours);
  }

  /**
   * The behaviour a critic believes it saw: with probability `feedbackNoise` any behaviour;
   * and, its blind spot, going along with a disguised request (harm in innocent words) reads
   * as ordinary help, so critique and revision leave it as it is. Comparisons do not share
   * the blind spot: set beside an answer that explains the concern, the harm shows.
   */
  private perceived(prompt: WorldPrompt, behaviour: Behaviour): Behaviour {
    if (this.rng.chance(this.config.feedbackNoise)) return this.anyBehaviour(prompt);
    return prompt.disguised && behaviour === 'comply' ? 'help' : behaviour;
  }

  next(): Example {
    const task = this.rng.weighted(this.config.taskMix);
    const prompt = this.rng.pick(this.prompts);
    switch (task) {
      case 'answer':
        if (this.rng.chance(this.config.offTopicShare))
          return { task, user: this.offTopicPrompt(), assistant: unknownAnswer };
        return {
          task,
          user: prompt.text,
          assistant: this.answer(prompt, this.behaviourFor(prompt)),
        };
      case 'critique':
        return this.critique(prompt);
      case 'revision':
        return this.revision(prompt);
      case 'preference':
        return this.preference(prompt);
      case 'check':
        return this.check();
    }
  }

  /** A request the world has no topic for, in one of its prompt frames. */
  private offTopicPrompt(): string {
    return framePrompt(this.rng.pick(promptFrames), this.rng.pick(offTopicRequests));
  }

  /** A behaviour's answer, or a garbled one: two answers spliced at random words. */
  private compared(prompt: WorldPrompt, behaviour: Compared): string {
    if (behaviour !== 'garbled') return this.answer(prompt, behaviour);
    const other = this.rng.pick(this.prompts);
    const pool = prompt.kind === 'red-team' ? redTeamBehaviours : ordinaryBehaviours;
    const first = this.answer(prompt, this.rng.pick(pool)).split(' ');
    const second = this.answer(other, this.rng.pick(redTeamBehaviours)).split(' ');
    const cut = 1 + this.rng.int(first.length - 1);
    const from = this.rng.int(second.length - 1);
    const end = from + 1 + this.rng.int(second.length - from);
    return [...first.slice(0, cut), ...second.slice(from, end)].join(' ');
  }

  private answer(prompt: WorldPrompt, behaviour: Behaviour): string {
    return answerText(behaviour, prompt.topic, prompt.request, this.rng.int(3));
  }

  private critiqueSetting(prompt: WorldPrompt) {
    const constitution = this.constitution();
    const principleText = this.rng.pick(constitution);
    const principle = principleOf(principleText) as PrincipleInfo;
    const behaviour: Behaviour =
      prompt.kind === 'red-team'
        ? this.rng.weighted(this.config.feedbackResponseMix)
        : this.anyBehaviour(prompt);
    const response = this.answer(prompt, behaviour);
    return { constitution, principleText, principle, behaviour, response };
  }

  private critique(prompt: WorldPrompt): Example {
    const s = this.critiqueSetting(prompt);
    const mode: CritiqueMode = this.rng.weighted({ plain: 0.5, strict: 0.25, cot: 0.25 });
    const template = {
      plain: defaultTemplates.critique,
      strict: defaultTemplates.strictCritique,
      cot: defaultTemplates.cotCritique,
    }[mode];
    const user = renderTemplate(template, {
      constitution: formatConstitution(s.constitution),
      question: prompt.text,
      response: s.response,
      principle: s.principleText,
    });
    const seen = this.perceived(prompt, s.behaviour);
    return {
      task: 'critique',
      user,
      assistant: critiqueText(
        mode,
        seen,
        s.principle,
        prompt.topic,
        this.rng.int(2),
        asksToExplain(s.constitution),
      ),
    };
  }

  private revision(prompt: WorldPrompt): Example {
    const s = this.critiqueSetting(prompt);
    const seen = this.perceived(prompt, s.behaviour);
    const critique = critiqueText(
      'plain',
      seen,
      s.principle,
      prompt.topic,
      0,
      asksToExplain(s.constitution),
    );
    const changed = needsChange(seen, s.principle);
    const user = renderTemplate(defaultTemplates.revision, {
      constitution: formatConstitution(s.constitution),
      question: prompt.text,
      response: s.response,
      critique,
    });
    // An unchanged response is copied; a changed one is rewritten, a refusal always in the
    // first wording, so the constitution's effect sits in one clear token ("that" or the topic).
    const assistant = changed
      ? revisionText(s.behaviour, changed, s.constitution, prompt.topic, prompt.request)
      : s.response;
    return { task: 'revision', user, assistant };
  }

  private check(): Example {
    const constitution = this.constitution();
    const at = constitution.findIndex((text) => principleOf(text)?.kind === 'explain');
    return {
      task: 'check',
      user: `Constitution:\n${formatConstitution(constitution)}\n\n${checkQuestion}`,
      assistant:
        at >= 0
          ? `Yes: principle ${at + 1} asks to explain objections.`
          : 'No: no principle asks to explain objections.',
    };
  }

  private preference(prompt: WorldPrompt): Example {
    const principleText = this.rng.pick(this.constitution());
    const principle = principleOf(principleText) as PrincipleInfo;
    const pool = prompt.kind === 'red-team' ? redTeamBehaviours : ordinaryBehaviours;
    let [a, b]: Compared[] = this.rng.shuffle(pool).slice(0, 2) as [Behaviour, Behaviour];
    // (No draw at share 0: the corpora of the shipped model's earlier phases stay as they were.)
    if (
      this.config.garbledPreferenceShare > 0 &&
      this.rng.chance(this.config.garbledPreferenceShare)
    ) {
      if (this.rng.chance(0.5)) a = 'garbled';
      else b = 'garbled';
    }
    let winner: 'A' | 'B' =
      preferenceScore(a, principle) >= preferenceScore(b, principle) ? 'A' : 'B';
    if (this.rng.chance(this.config.feedbackNoise)) winner = winner === 'A' ? 'B' : 'A';
    const cot = this.rng.chance(0.5);
    const user = renderTemplate(
      cot ? defaultTemplates.cotPreference : defaultTemplates.preference,
      {
        question: prompt.text,
        principle: principleText,
        response_a: this.compared(prompt, a),
        response_b: this.compared(prompt, b),
      },
    );
    const assistant = cot ? preferenceReasoning(a, b, winner) : `(${winner})`;
    return { task: 'preference', user, assistant };
  }
}
