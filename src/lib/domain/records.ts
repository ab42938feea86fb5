/**
 * What the stages produce, as plain data: the records that the pipeline's events carry, the
 * run view folds, the store keeps and exports write. A leaf module (it imports only leaves).
 */
import type { Label } from './labels.ts';
import type { PreferencePair } from './policy.ts';

/** The headline numbers of one policy on the held-out prompts (rates in [0, 1]; what each
 * counts is in scores.ts). */
export interface EvalScores {
  harmlessness: number;
  helpfulness: number;
  evasiveness: number;
}

/** One judge's figures: the scores and the label shares per prompt kind. */
export interface JudgeFigures extends EvalScores {
  redTeam: Record<Label, number>;
  ordinary: Record<Label, number>;
}

/** Who judges the held-out answers: the tiny world's exact judge (it knows every answer it
 * wrote) or the feedback model, an AI judge (the only one for a real model). */
export const judgeNames = ['world', 'feedback'] as const;
export type JudgeName = (typeof judgeNames)[number];

/** The AI judge's label of one answer and its probability (averaged over option orders). */
export interface AiVerdict {
  label: Label;
  confidence: number;
}

export interface EvalSample {
  prompt: string;
  kind: 'red-team' | 'ordinary';
  text: string;
  /** The label of the judge that made the figures. */
  label: Label;
  /** The world's label, when the world judged. */
  world?: Label;
  /** The AI judge's verdict, when it judged. */
  ai?: AiVerdict;
}

export interface EvalResult extends JudgeFigures {
  /** The judge of the figures above (runs stored before AI judging existed: the world's). */
  judge?: JudgeName;
  /** Every held-out prompt with the answer and its labels. */
  samples: EvalSample[];
  /** The AI judge's figures whenever it judged (the figures above too, when it is the judge):
   * which model, its mean confidence, and the share of answers where it agrees with the
   * world's judge (when the world judged too). */
  aiJudge?: { model: string; figures: JudgeFigures; confidence: number; agreement?: number };
  /** The world's figures when it labelled the answers but the AI judge made the figures above
   * (a tiny-world policy judged by the feedback model: ground truth beside the AI's view). */
  worldFigures?: JudgeFigures;
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
