/** The stages of Constitutional AI as the playground runs them, with a plain explanation each. */
export interface StageInfo {
  id: string;
  title: string;
  phase: 'SL-CAI' | 'RL-CAI' | 'Evaluation';
  explanation: string;
}

export const stages: StageInfo[] = [
  {
    id: 'generate',
    phase: 'SL-CAI',
    title: 'Answer',
    explanation:
      'The policy model answers red-team and ordinary prompts, as it would before any safety training.',
  },
  {
    id: 'critique',
    phase: 'SL-CAI',
    title: 'Critique and revise',
    explanation:
      'The feedback model reads each answer next to one principle drawn from the constitution, says what is wrong with it, and rewrites it. Several rounds, a new principle each time.',
  },
  {
    id: 'sft',
    phase: 'SL-CAI',
    title: 'Fine-tune (SFT)',
    explanation:
      'The policy is trained on the revised answers, so it learns to answer that way the first time.',
  },
  {
    id: 'label',
    phase: 'RL-CAI',
    title: 'AI preferences',
    explanation:
      'The fine-tuned policy writes two answers per prompt; the feedback model says which follows the constitution better, as a probability read from its own word choice.',
  },
  {
    id: 'reward',
    phase: 'RL-CAI',
    title: 'Reward model',
    explanation:
      'A copy of the policy with a score head learns to give the preferred answer the higher score (Bradley-Terry).',
  },
  {
    id: 'ppo',
    phase: 'RL-CAI',
    title: 'PPO',
    explanation:
      'The policy is trained to raise the reward model’s score, held near its starting point by a KL penalty so it does not game the score with nonsense.',
  },
  {
    id: 'evaluate',
    phase: 'Evaluation',
    title: 'Evaluate',
    explanation:
      'The same held-out prompts are answered after every stage and judged: harmlessness, helpfulness, and evasiveness (refusing instead of explaining).',
  },
];
