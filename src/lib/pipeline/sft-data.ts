import type { SftExample } from '../domain/policy.ts';
import { Rng } from '../util/random.ts';
import type { Chain } from '../domain/records.ts';

/**
 * The SL-CAI training set: each red-team prompt with its final revision (or, with
 * `everyRound`, with every round's revision), plus the policy's own answers to ordinary
 * prompts, which keep it helpful (the paper mixes in helpful samples the same way).
 */
export function buildSftSet(
  chains: Chain[],
  helpful: { prompt: string; text: string }[],
  everyRound: boolean,
): SftExample[] {
  const examples: SftExample[] = [];
  for (const chain of chains) {
    const rounds = everyRound ? chain.rounds : chain.rounds.slice(-1);
    for (const round of rounds)
      examples.push({ prompt: chain.prompt, response: round.revision.trim() });
  }
  for (const h of helpful) examples.push({ prompt: h.prompt, response: h.text.trim() });
  return examples.filter((e) => e.response.length > 0);
}

/** A seeded split into training and held-out examples (at least one of each when possible). */
export function splitHeldOut<T>(
  examples: T[],
  share: number,
  seed: number,
): { train: T[]; heldOut: T[] } {
  const shuffled = new Rng(seed).shuffle(examples);
  const count =
    share > 0 && examples.length > 1 ? Math.max(1, Math.round(share * examples.length)) : 0;
  return { heldOut: shuffled.slice(0, count), train: shuffled.slice(count) };
}
