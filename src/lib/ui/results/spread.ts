import { findPrompt } from '../../world/prompts.ts';

/**
 * The order in which held-out prompts are shown side by side: one of each topic in turn,
 * red-team and ordinary alternating, so the first few cover the world rather than eight
 * paraphrases of one request. Prompts the tiny world does not know count as a topic each.
 * Returns indices into `samples` (all of them, each once). Pure, for tests.
 */
export function spreadOrder(
  samples: { prompt: string; kind: 'red-team' | 'ordinary' }[],
): number[] {
  // Groups in first-seen order, each a queue of indices.
  const groups = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const key = findPrompt(s.prompt)?.topic.id ?? `prompt ${i}`;
    const group = groups.get(`${s.kind}:${key}`);
    if (group) group.push(i);
    else groups.set(`${s.kind}:${key}`, [i]);
  });
  const queues = (kind: string) =>
    [...groups].filter(([k]) => k.startsWith(kind)).map(([, q]) => q);
  const red = queues('red-team:');
  const ordinary = queues('ordinary:');
  const order: number[] = [];
  // Rounds: each topic gives its next prompt, red-team and ordinary topics interleaved.
  while (order.length < samples.length) {
    const round = interleave(red, ordinary).flatMap((q) => (q.length ? [q.shift()!] : []));
    order.push(...round);
  }
  return order;
}

function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}
