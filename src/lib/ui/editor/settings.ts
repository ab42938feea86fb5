/**
 * The stage settings the editor shows, each with its default explained (the tooltips). Paths
 * point into Experiment.stages; defaults live in pipeline/config.ts and rl/ppo-config.ts.
 */
export interface SettingField {
  path: string;
  label: string;
  help: string;
  min: number;
  max: number;
  step: number;
}

export const settingFields: SettingField[] = [
  {
    path: 'critique.rounds',
    label: 'Critique rounds',
    help: 'Default 2: each round samples a new principle, critiques the latest revision and revises it again. The paper used up to 4.',
    min: 1,
    max: 4,
    step: 1,
  },
  {
    path: 'sft.epochs',
    label: 'SFT epochs',
    help: 'Default 3 passes over the revisions (and the ordinary answers that keep the policy helpful).',
    min: 1,
    max: 20,
    step: 1,
  },
  {
    path: 'sft.learningRate',
    label: 'SFT learning rate',
    help: 'Default 5e-4 with warm-up and cosine decay: gentle, since the tiny model was pretrained at 3e-3.',
    min: 0,
    max: 0.1,
    step: 0.0001,
  },
  {
    path: 'label.pairsPerPrompt',
    label: 'Preference pairs per prompt',
    help: 'Default 2: the SL-CAI policy answers each prompt twice per pair; identical pairs are skipped.',
    min: 1,
    max: 8,
    step: 1,
  },
  {
    path: 'label.sampling.temperature',
    label: 'Pair sampling temperature',
    help: 'Default 1.3: after SL-CAI the tiny policy is so sure of itself that at temperature 1 almost every pair is two identical answers.',
    min: 0,
    max: 5,
    step: 0.1,
  },
  {
    path: 'reward.epochs',
    label: 'Reward model epochs',
    help: 'Default 2 passes over the labelled pairs (TRL trains 1 on large sets).',
    min: 1,
    max: 20,
    step: 1,
  },
  {
    path: 'ppo.iterations',
    label: 'PPO iterations',
    help: 'Default 8 rollout-and-update iterations, each over 60 red-team prompts (all of the default set); the first 2 train only the value model.',
    min: 1,
    max: 1000,
    step: 1,
  },
  {
    path: 'ppo.klCoef',
    label: 'KL coefficient',
    help: 'Default 0.05 (TRL): the per-token penalty for moving away from the SFT policy. Lower lets PPO game the reward model.',
    min: 0,
    max: 10,
    step: 0.01,
  },
  {
    path: 'ppo.learningRate',
    label: 'PPO learning rate',
    help: 'Default 1e-5, decayed linearly to 0 (TRL: 3e-6 for models a thousand times larger); 3e-5 made the tiny policy drift into garbled answers.',
    min: 0,
    max: 0.1,
    step: 0.00001,
  },
  {
    path: 'evaluate.maxPrompts',
    label: 'Held-out prompts per kind (0 = all)',
    help: 'Default 0: every held-out prompt. Fewer makes each evaluation faster and noisier.',
    min: 0,
    max: 10000,
    step: 1,
  },
];

/** Reads a number at a dotted path. */
export function getPath(root: object, path: string): number {
  return path
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as number;
}

/** Writes a number at a dotted path. */
export function setPath(root: object, path: string, value: number): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root);
  (parent as Record<string, number>)[last] = value;
}
