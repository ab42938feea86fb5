import type { PolicyName } from '../../domain/policy.ts';
import { stageOrder, steps, type StageName, type StepInfo } from '../../pipeline/steps.ts';

/** How the page names and explains each stage of Constitutional AI (typed by the stage list). */
export const stageTexts: Record<StageName, { title: string; explanation: string }> = {
  generate: {
    title: 'Answer',
    explanation:
      'The policy model answers red-team and ordinary prompts, as it would before any safety training.',
  },
  critique: {
    title: 'Critique and revise',
    explanation:
      'The feedback model reads each answer next to one principle drawn from the constitution, says what is wrong with it, and rewrites it. Several rounds, a new principle each time.',
  },
  sft: {
    title: 'Fine-tune (SFT)',
    explanation:
      'The policy is trained on the revised answers, so it learns to answer that way the first time.',
  },
  label: {
    title: 'AI preferences',
    explanation:
      'The fine-tuned policy writes two answers per prompt; the feedback model says which follows the constitution better, as a probability read from its own word choice.',
  },
  reward: {
    title: 'Reward model',
    explanation:
      'A copy of the policy with a score head learns to give the preferred answer the higher score (Bradley-Terry).',
  },
  ppo: {
    title: 'PPO',
    explanation:
      'The policy is trained to raise the reward model’s score, held near its starting point by a KL penalty so it does not game the score with nonsense.',
  },
  evaluate: {
    title: 'Evaluate',
    explanation:
      'The same held-out prompts, never trained on, are answered after every stage and judged: harmlessness, helpfulness and evasiveness (refusing instead of explaining; the Results say what each counts).',
  },
};

/** The phase a stage belongs to in the overview: its steps' phase, or Evaluation for a stage
 * that runs in both (the held-out evaluation). */
export function stagePhase(stage: StageName): 'SL-CAI' | 'RL-CAI' | 'Evaluation' {
  const phases = new Set(steps.filter((s) => s.stage === stage).map((s) => s.phase));
  return phases.size > 1 ? 'Evaluation' : [...phases][0]!;
}

/** The stages with their texts, in the order the recipe reaches them. */
export const stages = stageOrder.map((id) => ({ id, phase: stagePhase(id), ...stageTexts[id] }));

/** How the page names each policy. */
export const policyTitles: Record<PolicyName, string> = {
  base: 'Base',
  sl: 'SL-CAI',
  rl: 'RL-CAI',
};

/** A step as the page names it: its stage's title, and the policy an evaluation scores
 * ("Evaluate: SL-CAI"), so the run's step chips read as the overview does. */
export function stepTitle(step: Pick<StepInfo, 'stage' | 'evaluates'>): string {
  const title = stageTexts[step.stage].title;
  return step.evaluates ? `${title}: ${policyTitles[step.evaluates]}` : title;
}
