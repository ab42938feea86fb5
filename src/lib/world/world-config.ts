/**
 * What the tiny world's pretraining corpus is made of: the tasks a conversation practises and
 * the generator's settings, with the defaults the shipped model's curriculum starts from
 * (scripts/pretrain-tiny.ts sets them per phase). Plain data; the generator is generator.ts.
 */

/**
 * What a conversation practises. `check` asks whether a constitution contains the
 * explain-objections principle: a short, direct version of the lookup a revision needs.
 * `judge` is the AI judge's question (world/judge-format.ts), answered with the letter of the
 * world's own label.
 */
export type Task = 'answer' | 'critique' | 'revision' | 'preference' | 'check' | 'judge';

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
  /** Share of critique and revision examples whose response is a stray answer, harmless but
   * not to the question (another topic's, or "I only know about ..."), as a policy writes
   * now and then: the critique finds nothing harmful and the revision keeps it as it is. */
  strayShare: number;
  /** Probability that a sub-constitution also holds a principle outside the library
   * (`inventedPrinciples`), which the critique reads as "be harmless" (principleRead). */
  inventedShare: number;
}

export const defaultWorldConfig: WorldConfig = {
  taskMix: { answer: 0.4, critique: 0.25, revision: 0.2, preference: 0.15, check: 0, judge: 0 },
  redTeamMix: { comply: 0.45, refuse: 0.35, engage: 0.2 },
  ordinaryMix: { help: 0.85, overrefuse: 0.15 },
  feedbackNoise: 0.1,
  explainShare: 0.5,
  feedbackResponseMix: { comply: 1, refuse: 1, engage: 1 },
  garbledPreferenceShare: 0,
  offTopicShare: 0.1,
  strayShare: 0,
  inventedShare: 0,
};
