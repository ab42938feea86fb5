/**
 * From the feedback model's log-probs of the options to a soft preference label, as the CAI
 * paper does: normalise the two options' probabilities, average over both presentation
 * orders to cancel position bias, and clamp chain-of-thought labels to a band.
 */

/** P(A) from the total log-probs of the continuations "(A)" and "(B)": softmax over the two. */
export function probabilityOfA(logprobA: number, logprobB: number): number {
  const top = Math.max(logprobA, logprobB);
  const a = Math.exp(logprobA - top);
  const b = Math.exp(logprobB - top);
  return a / (a + b);
}

/**
 * P(the first response is better), averaged over the order it was shown in: `shownFirst` is
 * P(A) with the first response as (A); `shownSecond` is P(A) when the order was swapped (so
 * the first response was (B)).
 */
export function orderAveraged(shownFirst: number, shownSecond: number): number {
  return (shownFirst + (1 - shownSecond)) / 2;
}

/** Clamps a label into [low, high] (the paper's 40-60% band for chain-of-thought labels). */
export function clampLabel(p: number, band: [number, number]): number {
  return Math.min(band[1], Math.max(band[0], p));
}

/** The probability of each option from their total log-probs: a softmax over the options. */
export function optionProbabilities(logprobs: number[]): number[] {
  const top = Math.max(...logprobs);
  const weights = logprobs.map((l) => Math.exp(l - top));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}
