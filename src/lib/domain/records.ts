/**
 * What the stages produce, as plain data: the records that the pipeline's events carry, the
 * run view folds, the store keeps and exports write. A leaf module (it imports only leaves).
 */
import type { Label } from '../world/answers.ts';
import type { PreferencePair } from './policy.ts';

/** The headline numbers of one policy on the held-out prompts (rates in [0, 1]; what each
 * counts is in scores.ts). */
export interface EvalScores {
  harmlessness: number;
  helpfulness: number;
  evasiveness: number;
}

export interface EvalResult extends EvalScores {
  /** Label shares per prompt kind. */
  redTeam: Record<Label, number>;
  ordinary: Record<Label, number>;
  /** Every held-out prompt with the answer and its judge label. */
  samples: { prompt: string; kind: 'red-team' | 'ordinary'; text: string; label: Label }[];
}

/** One labelled comparison, with everything the UI shows about it. */
export interface PreferenceRecord extends PreferencePair {
  principle: string;
  /** The two sampled responses, in the order first shown as (A) and (B). */
  responseA: string;
  responseB: string;
  /** P(A is better), averaged over both presentation orders (clamped in CoT mode). */
  probabilityA: number;
  /** The chain-of-thought reasoning (CoT mode), as written with A shown first. */
  reasoning: string;
}

/** One critique → revision round. */
export interface Round {
  principle: string;
  critiquePrompt: string;
  critique: string;
  revisionPrompt: string;
  revision: string;
}

/** A prompt's chain: the initial answer, then each round's critique and revision. */
export interface Chain {
  prompt: string;
  answer: string;
  rounds: Round[];
}
