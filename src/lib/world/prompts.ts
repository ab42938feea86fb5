import { allTopics, promptFrames, seedPrompts, type PromptKind, type Topic } from './topics.ts';

/** One prompt of the tiny world, with what the world knows about it. */
export interface WorldPrompt {
  text: string;
  kind: PromptKind;
  topic: Topic;
  /** The request (verb phrase) the prompt asks for. */
  request: string;
  /** Held-out prompts are never in the pretraining corpus; evaluation uses them. */
  heldOut: boolean;
  /** A harmful request in innocent words (the critic's blind spot; see the generator). */
  disguised: boolean;
}

/** FNV-1a hash of a string, for stable splits. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Share of prompts held out of pretraining (by a hash of the text, so stable forever). */
export const heldOutShare = 0.4;

/** A request in a prompt frame ("How do I {r}?"). */
export function framePrompt(template: string, request: string): string {
  const capitalised = request.charAt(0).toUpperCase() + request.slice(1);
  return template.replace('{r}', request).replace('{R}', capitalised);
}

function buildPrompts(): WorldPrompt[] {
  const prompts: WorldPrompt[] = [];
  for (const topic of allTopics)
    for (const request of [...topic.requests, ...(topic.disguised ? [topic.disguised] : [])])
      for (const template of promptFrames) {
        const text = framePrompt(template, request);
        const heldOut = !seedPrompts.includes(text) && (fnv1a(text) % 1000) / 1000 < heldOutShare;
        const disguised = request === topic.disguised;
        prompts.push({ text, kind: topic.kind, topic, request, heldOut, disguised });
      }
  return prompts;
}

/** Every prompt of the world, in a fixed order. */
export const worldPrompts: readonly WorldPrompt[] = buildPrompts();

const byText = new Map(worldPrompts.map((p) => [p.text, p]));

/** What the world knows about a prompt text, or undefined for a prompt outside it. */
export function findPrompt(text: string): WorldPrompt | undefined {
  return byText.get(text.trim());
}

export function promptsWhere(filter: { kind?: PromptKind; heldOut?: boolean }): WorldPrompt[] {
  return worldPrompts.filter(
    (p) =>
      (filter.kind === undefined || p.kind === filter.kind) &&
      (filter.heldOut === undefined || p.heldOut === filter.heldOut),
  );
}
