/**
 * The sequence-level advantages of the online methods without a value model, on plain arrays
 * (one score per sampled answer; answers of one prompt are consecutive, `group` of them).
 */

function groupsOf(values: number[], group: number): number[][] {
  if (group < 1 || values.length % group !== 0)
    throw new Error(`${values.length} scores do not split into groups of ${group}.`);
  return Array.from({ length: values.length / group }, (_, g) =>
    values.slice(g * group, (g + 1) * group),
  );
}

const meanOf = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;

/** Standard deviation with Bessel's correction (as torch.std, which TRL uses); 0 for one value. */
function stdOf(x: number[]): number {
  if (x.length < 2) return 0;
  const m = meanOf(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1));
}

/** How GRPO scales the centred rewards: by the group's std (the paper, TRL's "group"), the
 * whole batch's std ("batch"), or not at all ("none", Dr. GRPO). */
export const rewardScalings = ['group', 'batch', 'none'] as const;
export type RewardScaling = (typeof rewardScalings)[number];

/**
 * GRPO (Shao et al. 2024): each answer's reward minus its group's mean, divided by the std
 * (+1e-4, as TRL) chosen by `scale`.
 */
export function groupAdvantages(scores: number[], group: number, scale: RewardScaling): number[] {
  const batchStd = stdOf(scores);
  return groupsOf(scores, group).flatMap((g) => {
    const m = meanOf(g);
    const std = scale === 'group' ? stdOf(g) : batchStd;
    return g.map((r) => (scale === 'none' ? r - m : (r - m) / (std + 1e-4)));
  });
}

/**
 * RLOO (Ahmadian et al. 2024): each answer's reward minus the mean reward of the other k − 1
 * answers of its prompt (k ≥ 2).
 */
export function leaveOneOutAdvantages(rewards: number[], k: number): number[] {
  if (k < 2)
    throw new Error('RLOO needs at least 2 answers per prompt (a leave-one-out baseline).');
  return groupsOf(rewards, k).flatMap((g) => {
    const sum = g.reduce((a, b) => a + b, 0);
    return g.map((r) => r - (sum - r) / (k - 1));
  });
}

/** Whitens advantages over the batch: (A − mean) / (std + 1e-4) (RLOO's normalize_advantages). */
export function normaliseAdvantages(a: number[]): number[] {
  const m = meanOf(a);
  const std = stdOf(a);
  return a.map((v) => (v - m) / (std + 1e-4));
}

/**
 * The sequence KL of each answer to the reference, Σ_t (log π − log π_ref) over its tokens
 * (k1, summed), from [B, T] log-probs and the response mask: RLOO's penalty in the reward.
 */
export function sequenceKl(logp: number[][], logref: number[][], mask: number[][]): number[] {
  return logp.map((row, b) =>
    row.reduce((s, lp, t) => s + (mask[b]![t] ? lp - logref[b]![t]! : 0), 0),
  );
}
