import type { Rng } from '../../util/random.ts';

/** How the next token is drawn from the logits. */
export interface TokenSampling {
  /** 0 means greedy (argmax). Default 1. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. Default 0. */
  topK: number;
  /** Keep the smallest set of tokens whose probabilities sum to at least p; 1 keeps all. */
  topP: number;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * Draws one token from one row of logits: temperature, then top-k, then top-p (nucleus),
 * then a draw from what is left. Pure and seeded, so tests can pin every branch.
 */
export function sampleToken(logits: ArrayLike<number>, cfg: TokenSampling, rng: Rng): number {
  if (cfg.temperature <= 0) return argmax(logits);
  const order = Array.from({ length: logits.length }, (_, i) => i).sort(
    (a, b) => logits[b]! - logits[a]!,
  );
  const keep = cfg.topK > 0 ? order.slice(0, cfg.topK) : order;
  const top = logits[keep[0]!]!;
  const weights = keep.map((i) => Math.exp((logits[i]! - top) / cfg.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let cut = keep.length;
  if (cfg.topP < 1) {
    let cumulative = 0;
    for (let j = 0; j < keep.length; j++) {
      cumulative += weights[j]! / total;
      if (cumulative >= cfg.topP) {
        cut = j + 1;
        break;
      }
    }
  }
  const kept = weights.slice(0, cut);
  let r = rng.float() * kept.reduce((a, b) => a + b, 0);
  for (let j = 0; j < cut; j++) if ((r -= kept[j]!) < 0) return keep[j]!;
  return keep[cut - 1]!;
}
