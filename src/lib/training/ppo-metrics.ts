import type { Rows } from '../ops/advantages.ts';
import { mean, rowSum } from './rollout.ts';

/** PPO's metrics under TRL's names, and its warnings, from one iteration's numbers (pure). */

/** The statistics of one minibatch update, and the TRL metric each is averaged into. */
const statMetrics = {
  approxkl: 'policy/approxkl_avg',
  clipfrac: 'policy/clipfrac_avg',
  pg: 'loss/policy_avg',
  vf: 'loss/value_avg',
  vfClip: 'val/clipfrac_avg',
  entropy: 'policy/entropy_avg',
  ratio: 'val/ratio',
  ratioVar: 'val/ratio_var',
} as const;
export type UpdateStats = Record<keyof typeof statMetrics, number>;

/** Entropy below this share of the first iteration's counts as collapsed. */
export const entropyCollapse = 0.25;

/** One iteration's metrics, as TRL names them. */
export function iterationMetrics(it: {
  kl: Rows;
  nonScore: Rows;
  oldLogp: Rows;
  mask: Rows;
  scores: number[];
  stats: UpdateStats[];
  rolled: { finished: boolean[] };
}): Record<string, number> {
  const { kl, nonScore, oldLogp, mask, scores, stats } = it;
  const nonScoreSum = mean(rowSum(nonScore, mask));
  const negLogp = oldLogp.map((row) => row.map((v) => -v));
  const statsMean = (k: keyof UpdateStats) => mean(stats.map((x) => x[k]));
  return {
    'objective/kl': mean(rowSum(kl, mask)),
    'objective/entropy': mean(rowSum(negLogp, mask)),
    'objective/non_score_reward': nonScoreSum,
    'objective/rlhf_reward': mean(scores) + nonScoreSum,
    'objective/scores': mean(scores),
    ...Object.fromEntries(
      (Object.keys(statMetrics) as (keyof UpdateStats)[]).map((k) => [
        statMetrics[k],
        statsMean(k),
      ]),
    ),
    'val/num_eos_tokens': it.rolled.finished.filter(Boolean).length,
  };
}

/** What a student should look at after an iteration (TRL's warning signs). */
export function iterationWarnings(
  klSum: number,
  entropy: number,
  firstEntropy: number,
  responses: number[][],
): string[] {
  const warnings: string[] = [];
  if (klSum < 0)
    warnings.push(
      `The KL estimate is negative (${klSum.toFixed(3)}): k1 is noisy per sample; the true KL is never below 0.`,
    );
  if (entropy < entropyCollapse * firstEntropy)
    warnings.push(
      `Entropy fell to ${entropy.toFixed(3)} nats per token, under ${Math.round(100 * entropyCollapse)}% of the first iteration's ${firstEntropy.toFixed(3)}: the policy has almost stopped exploring.`,
    );
  const texts = responses.map((t) => t.join(','));
  if (texts.length > 1 && texts.every((t) => t === texts[0]))
    warnings.push(
      'Every response in the batch is identical: the policy has collapsed to one answer.',
    );
  return warnings;
}
