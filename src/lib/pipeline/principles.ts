import { Rng } from '../util/random.ts';

/**
 * The principle each critique round uses: for prompt i and round r, a uniform draw from the
 * constitution, as the CAI paper samples one per critique. Deterministic under the seed.
 */
export function samplePrinciples(
  constitution: string[],
  prompts: number,
  rounds: number,
  seed: number,
): string[][] {
  if (constitution.length === 0) throw new Error('The constitution has no principles to sample.');
  const rng = new Rng(seed);
  return Array.from({ length: prompts }, () =>
    Array.from({ length: rounds }, () => rng.pick(constitution)),
  );
}
