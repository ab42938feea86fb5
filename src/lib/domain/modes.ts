/**
 * The modes of CAI's feedback, declared once: the stage tables offer them, the tiny world
 * writes texts in them. A leaf module: it imports nothing.
 */

/** plain: critique using the principle; strict: identify ANY potential issues; cot: yes/no
 * questions first, then the critique (chain of thought). */
export const critiqueModes = ['plain', 'strict', 'cot'] as const;
export type CritiqueMode = (typeof critiqueModes)[number];

/** plain: P(A) from the option log-probs; cot: reasoning first, then clamped. */
export const labelModes = ['plain', 'cot'] as const;
export type LabelMode = (typeof labelModes)[number];

/** Who judges the held-out answers: the tiny world's exact judge, the feedback model (an AI
 * judge, the only one for a real model), or both side by side. */
export const evaluationJudges = ['world', 'feedback', 'both'] as const;
export type EvaluationJudge = (typeof evaluationJudges)[number];

/** How RL-CAI learns from the AI labels: the paper's reward model + PPO, DPO directly on the
 * labelled pairs, or GRPO / RLOO online against the reward model. */
export const rlMethods = ['ppo', 'dpo', 'grpo', 'rloo'] as const;
export type RlMethod = (typeof rlMethods)[number];

/** The methods that sample answers as they train (iterations, streamed text, scored samples):
 * all but DPO, which learns from the labelled pairs alone. */
export const isOnlineMethod = (stage: string): boolean =>
  stage === 'ppo' || stage === 'grpo' || stage === 'rloo';
