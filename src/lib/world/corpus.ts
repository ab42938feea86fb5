import type { BpeTokenizer } from '../tokenizer/bpe.ts';
import { formatChat } from '../tokenizer/hf-files.ts';
import type { LmBatch } from '../training/train-step.ts';
import { WorldGenerator } from './generator.ts';
import type { Example } from './world-config.ts';

/** One example as the model reads it: a ChatML conversation. */
export function exampleText(e: Example): string {
  return formatChat(
    [
      { role: 'user', content: e.user },
      { role: 'assistant', content: e.assistant },
    ],
    false,
  );
}

/** A conversation's tokens and where its answer starts (the loss may count only the answer). */
interface Document {
  ids: number[];
  answerStart: number;
}

/** How many generated conversations wait to be placed; rows are filled best-fit from them. */
const poolSize = 64;

/**
 * Next-token batches of whole conversations: each row of T + 1 tokens holds complete
 * conversations, placed best-fit from a pool, then padding (masked out of loss and keys).
 * A conversation is never cut: a revision's decision must see the constitution at its start,
 * and plain stream packing would cut it off about half the time. Conversations longer than
 * T + 1 tokens are dropped (the world's are at most about 240 tokens).
 */
export class DocumentBatches {
  private pool: Document[] = [];
  /** Conversations dropped because they do not fit in a row. */
  dropped = 0;

  constructor(
    private readonly generator: WorldGenerator,
    private readonly tokenizer: BpeTokenizer,
    private readonly padId: number,
    /** Count the loss on the assistant's answers only, as fine-tuning does (default: all). */
    private readonly answersOnly = false,
  ) {}

  private refill(rowLength: number): void {
    while (this.pool.length < poolSize) {
      const example = this.generator.next();
      const ids = this.tokenizer.encode(exampleText(example));
      // Special tokens split the text first, so the prompt's tokens are a prefix of the whole.
      const answerStart = this.tokenizer.encode(
        formatChat([{ role: 'user', content: example.user }], true),
      ).length;
      if (ids.length > rowLength) this.dropped++;
      else this.pool.push({ ids, answerStart });
    }
  }

  /** One row of whole documents: its tokens, how many are real, and which count in the loss. */
  private row(rowLength: number): { tokens: number[]; used: number; counted: boolean[] } {
    const tokens: number[] = [];
    const counted: boolean[] = [];
    for (;;) {
      this.refill(rowLength);
      const room = rowLength - tokens.length;
      let best = -1;
      for (let i = 0; i < this.pool.length; i++) {
        const n = this.pool[i]!.ids.length;
        if (n <= room && (best < 0 || n > this.pool[best]!.ids.length)) best = i;
      }
      // The first document always fits (refill keeps only those that do).
      if (best < 0) break;
      const doc = this.pool.splice(best, 1)[0]!;
      tokens.push(...doc.ids);
      counted.push(...doc.ids.map((_, i) => !this.answersOnly || i >= doc.answerStart));
    }
    const used = tokens.length;
    while (tokens.length < rowLength) tokens.push(this.padId);
    return { tokens, used, counted };
  }

  next(batchSize: number, length: number): LmBatch {
    const batch: LmBatch = { ids: [], targets: [], lossMask: [], keyMask: [] };
    for (let b = 0; b < batchSize; b++) {
      const { tokens, used, counted } = this.row(length + 1);
      batch.ids.push(tokens.slice(0, length));
      batch.targets.push(tokens.slice(1));
      // [T]: position t predicts token t + 1, which is real only when t + 1 < used.
      batch.lossMask.push(
        Array.from({ length }, (_, t) => (t + 1 < used && counted[t + 1] ? 1 : 0)),
      );
      batch.keyMask.push(Array.from({ length }, (_, t) => (t < used ? 1 : 0)));
    }
    return batch;
  }
}
