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
