import type { Behaviour } from '../domain/labels.ts';
import { unknownAnswer } from './answers.ts';
import {
  critiqueText,
  type Compared,
  needsChange,
  type Seen,
  preferenceReasoning,
  preferenceScore,
  revisionText,
} from './feedback-texts.ts';
import type { CritiqueMode } from '../domain/modes.ts';
import {
  asksToExplain,
  inventedPrinciples,
  principleLibrary,
  principleOf,
  principleRead,
} from './principles.ts';
import { judgeAnswer } from './judge.ts';
import { judgeLetters, judgeOptions, judgePrompt, rotatedOptions } from './judge-format.ts';
import { framePrompt, promptsWhere, type WorldPrompt } from './prompts.ts';
import { offTopicRequests } from './off-topic.ts';
import { promptFrames } from './topics.ts';
import { Rng } from '../util/random.ts';
import { defaultWorldConfig, type Example, type WorldConfig } from './world-config.ts';
import {
  compared,
  ordinaryBehaviours,
  otherTopicAnswer,
  promptAnswer,
  redTeamBehaviours,
  strayAnswer,
} from './sampled-answers.ts';
import { defaultTemplates, formatConstitution, renderTemplate } from './templates.ts';

/**
 * The seeded generator of the tiny world's pretraining corpus: conversations of one user turn
 * and one assistant turn, of six tasks: answering a prompt, critiquing an answer (three
 * modes), revising it, judging two answers (plain and chain-of-thought), and labelling one
 * answer in the AI judge's lettered format.
 */

export const checkQuestion =
  'Does this constitution ask to explain objections instead of refusing?';

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
    const texts = kinds.map((p) => rng.pick(p.paraphrases));
    // (No draw at share 0: the corpora of the shipped model's earlier phases stay as they were.)
    if (this.config.inventedShare > 0 && rng.chance(this.config.inventedShare))
      texts.splice(rng.int(texts.length + 1), 0, rng.pick(inventedPrinciples));
    return texts;
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
  private perceived(prompt: WorldPrompt, behaviour: Seen): Seen {
    if (behaviour === 'stray') return behaviour;
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
      case 'judge':
        return this.judge(prompt);
    }
  }

  /** A request the world has no topic for, in one of its prompt frames. */
  private offTopicPrompt(): string {
    return framePrompt(this.rng.pick(promptFrames), this.rng.pick(offTopicRequests));
  }

  private answer(prompt: WorldPrompt, behaviour: Behaviour): string {
    return promptAnswer(this.rng, prompt, behaviour);
  }

  private critiqueSetting(prompt: WorldPrompt) {
    const constitution = this.constitution();
    const principleText = this.rng.pick(constitution);
    const principle = principleRead(principleText);
    // (No draw at share 0: the corpora of the shipped model's earlier phases stay as they were.)
    if (this.config.strayShare > 0 && this.rng.chance(this.config.strayShare)) {
      const response = strayAnswer(this.rng, prompt);
      return { constitution, principleText, principle, behaviour: 'stray' as Seen, response };
    }
    const behaviour: Seen =
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
    const assistant =
      changed && s.behaviour !== 'stray'
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
    const principle = principleRead(principleText);
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
        response_a: compared(this.rng, this.prompts, prompt, a),
        response_b: compared(this.rng, this.prompts, prompt, b),
      },
    );
    const assistant = cot ? preferenceReasoning(a, b, winner) : `(${winner})`;
    return { task: 'preference', user, assistant };
  }
  /**
   * The AI judge's question about one answer, with the options in a random rotation, answered
   * with the letter of the world's label (with the world's usual noise). The answers judged are
   * what a policy writes: the prompt's own behaviours, another topic's answers, "I only know
   * about ..." and garbled ones. The judge has no blind spot: harm in innocent words is harm.
   */
  private judge(prompt: WorldPrompt): Example {
    const roll = this.rng.float();
    const answer =
      roll < 0.55
        ? this.answer(prompt, this.anyBehaviour(prompt))
        : roll < 0.75
          ? otherTopicAnswer(this.rng, prompt)
          : roll < 0.85
            ? unknownAnswer
            : compared(this.rng, this.prompts, prompt, 'garbled');
    const options = judgeOptions[prompt.kind];
    let label = judgeAnswer(answer, prompt.kind, prompt.text);
    if (this.rng.chance(this.config.feedbackNoise)) label = this.rng.pick(options).label;
    const r = this.rng.int(options.length);
    const at = options.findIndex((o) => o.label === label);
    if (at < 0) throw new Error(`The judge's options for ${prompt.kind} prompts lack ${label}.`);
    const letter = judgeLetters[(at - r + options.length) % options.length]!;
    return {
      task: 'judge',
      user: judgePrompt(prompt.text, answer, rotatedOptions(prompt.kind, r)),
      assistant: `(${letter})`,
    };
  }
}
