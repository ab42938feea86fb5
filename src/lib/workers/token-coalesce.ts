import type { ReplyEvent } from './protocol.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type WorkerEvent = DistributiveOmit<ReplyEvent, 'id'>;

/** Streamed text leaves a worker at most this often: one message per text that grew, not one
 * per token per row (a batch of 16 rows sent 16 messages a step, each waking the page). */
const everyMs = 100;

/** Which streamed text an event adds to (null: not streamed text). */
function textKey(e: WorkerEvent): string | null {
  if (e.status === 'token') return `row ${e.index}`;
  if (e.status === 'train' && e.event.type === 'token') return `key ${e.event.key}`;
  return null;
}

/** `a` with `b`'s text appended (both stream the same text). */
function joined(a: WorkerEvent, b: WorkerEvent): WorkerEvent {
  if (a.status === 'token' && b.status === 'token') return { ...a, text: a.text + b.text };
  if (
    a.status === 'train' &&
    a.event.type === 'token' &&
    b.status === 'train' &&
    b.event.type === 'token'
  )
    return { ...a, event: { ...a.event, delta: a.event.delta + b.event.delta } };
  return b;
}

/**
 * A request's event channel that holds streamed text back and sends it joined per text, at
 * most every 100 ms, and always before any other event (so the order of events stays as it
 * was, and each text arrives whole). `flush` sends what is held (before the final reply).
 */
export function coalescing(
  send: (e: WorkerEvent) => void,
  now: () => number = () => performance.now(),
): { emit: (e: WorkerEvent) => void; flush: () => void } {
  const held = new Map<string, WorkerEvent>();
  let sent = now();
  const flush = () => {
    for (const e of held.values()) send(e);
    held.clear();
    sent = now();
  };
  const emit = (e: WorkerEvent) => {
    const key = textKey(e);
    if (key === null) {
      flush();
      send(e);
      return;
    }
    const before = held.get(key);
    held.set(key, before ? joined(before, e) : e);
    if (now() - sent >= everyMs) flush();
  };
  return { emit, flush };
}
