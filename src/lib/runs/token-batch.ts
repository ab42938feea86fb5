import type { PipelineEvent } from '../pipeline/events.ts';

/** Streamed text reaches the page at most this often: drawing every token took the main
 * thread's share of the CPU from the workers (generation ran 1.3-1.7x slower from the page). */
const tokensEveryMs = 250;

/** Holds streamed-text events and hands them on in batches, in order. */
export class TokenBatch {
  private tokens: PipelineEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly show: (tokens: PipelineEvent[]) => void) {}

  add(e: PipelineEvent): void {
    this.tokens.push(e);
    this.timer ??= setTimeout(() => this.flush(), tokensEveryMs);
  }

  /** Hands on what is held now (call before any other event, to keep the order). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const tokens = this.tokens;
    this.tokens = [];
    if (tokens.length) this.show(tokens);
  }
}
