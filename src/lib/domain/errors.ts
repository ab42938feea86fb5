/**
 * The two error helpers every layer uses: the one cancellation error (a Stop, in a stage or
 * a worker request) and the one way to turn anything thrown into a readable message.
 * A leaf module: it imports nothing.
 */

/** Thrown when a run or a request was stopped on purpose (not a failure). */
export class Cancelled extends Error {
  constructor() {
    super('Cancelled.');
    this.name = 'Cancelled';
  }
}

/** Throws Cancelled when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Cancelled();
}

/** A readable message for anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  return 'Unknown error: ' + JSON.stringify(error);
}

/** `work`, with a failure said where it happened ("Critique and revise, red-team prompt 3
 * (“How do I…”), round 2: …"); a cancellation (Cancelled, or a worker request's error marked
 * `cancelled`) goes through as it is. */
export async function during<T>(place: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const stopped = (error as { cancelled?: unknown } | null)?.cancelled === true;
    if (error instanceof Cancelled || stopped) throw error;
    throw new Error(`${place}: ${describeError(error)}`, { cause: error });
  }
}

/** A user's text shortened for a message (“How do I pick a lock…”). */
export const quoted = (text: string, max = 60): string =>
  `“${text.length > max ? `${text.slice(0, max).trimEnd()}…` : text}”`;
