/**
 * Per-token RL arithmetic on plain arrays: rows are responses, columns are tokens, and a
 * mask marks the response's real tokens (1) against padding (0). Sizes are small (a batch
 * of responses of some tens of tokens), so this runs in JS, exactly, outside the graph.
 */

export type Rows = number[][]; // [B, T]

/** The KL estimators PPO can use (k1: TRL's default; k3: never negative). */
export const klEstimators = ['k1', 'k3'] as const;
export type KlEstimator = (typeof klEstimators)[number];

/**
 * Per-token KL estimate of the policy from the reference, from log-probs of the sampled
 * tokens: k1 = logp - logref (unbiased, noisy, can be negative); k3 = (r - 1) - log r with
 * r = exp(logref - logp) (never negative, lower variance). TRL's two estimators.
 */
export function klPerToken(logp: Rows, logref: Rows, estimator: KlEstimator): Rows {
  return logp.map((row, b) =>
    row.map((lp, t) => {
      const logr = logref[b]![t]! - lp;
      return estimator === 'k1' ? -logr : Math.expm1(logr) - logr;
    }),
  );
}

/**
 * TRL's per-token rewards: -klCoef * KL at every response token, plus the score on the last
 * real token. Returns them with the non-score (KL) part alone, for logging.
 */
export function tokenRewards(
  kl: Rows,
  scores: number[],
  mask: Rows,
  klCoef: number,
): { rewards: Rows; nonScore: Rows } {
  const nonScore = kl.map((row, b) => row.map((k, t) => (mask[b]![t] ? -klCoef * k : 0)));
  const rewards = nonScore.map((row, b) => {
    const out = [...row];
    const last = mask[b]!.lastIndexOf(1);
    if (last >= 0) out[last]! += scores[b]!;
    return out;
  });
  return { rewards, nonScore };
}

/**
 * Generalised advantage estimation, backwards over each row's real tokens:
 * delta_t = r_t + gamma * V_{t+1} - V_t; A_t = delta_t + gamma * lam * A_{t+1}; returns = A + V.
 * Past the last real token, V and A are 0.
 */
export function gae(
  rewards: Rows,
  values: Rows,
  mask: Rows,
  gamma: number,
  lam: number,
): { advantages: Rows; returns: Rows } {
  const advantages = rewards.map((row, b) => {
    const out = new Array<number>(row.length).fill(0);
    let next = 0; // A_{t+1}
    let nextValue = 0; // V_{t+1}
    for (let t = row.length - 1; t >= 0; t--) {
      if (!mask[b]![t]) continue;
      const delta = row[t]! + gamma * nextValue - values[b]![t]!;
      next = delta + gamma * lam * next;
      out[t] = next;
      nextValue = values[b]![t]!;
    }
    return out;
  });
  const returns = advantages.map((row, b) =>
    row.map((a, t) => (mask[b]![t] ? a + values[b]![t]! : 0)),
  );
  return { advantages, returns };
}

/** Mean and unbiased variance of the masked entries. */
function maskedMoments(x: Rows, mask: Rows): { mean: number; variance: number; count: number } {
  let sum = 0;
  let count = 0;
  x.forEach((row, b) =>
    row.forEach((v, t) => {
      if (mask[b]![t]) {
        sum += v;
        count++;
      }
    }),
  );
  const mean = count ? sum / count : 0;
  let squares = 0;
  x.forEach((row, b) =>
    row.forEach((v, t) => {
      if (mask[b]![t]) squares += (v - mean) ** 2;
    }),
  );
  return { mean, variance: count > 1 ? squares / (count - 1) : 0, count };
}

/**
 * Whitening over the masked entries: (x - mean) / sqrt(var + 1e-8), where the unbiased
 * variance is used; with `shiftMean` false the mean is added back (as TRL does for rewards).
 * Padding stays 0.
 */
export function whiten(x: Rows, mask: Rows, shiftMean = true): Rows {
  const { mean, variance } = maskedMoments(x, mask);
  const scale = 1 / Math.sqrt(variance + 1e-8);
  return x.map((row, b) =>
    row.map((v, t) => (mask[b]![t] ? (v - mean) * scale + (shiftMean ? 0 : mean) : 0)),
  );
}
