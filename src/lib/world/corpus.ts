import type { BpeTokenizer } from '../tokenizer/bpe.ts';
import { formatChat } from '../tokenizer/hf-files.ts';
import type { LmBatch } from '../model/train-step.ts';
import { WorldGenerator, type Example } from './generator.ts';

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

/**
 * Packed next-token batches from an endless stream of generated conversations: tokens are
 * concatenated and cut into rows of T + 1, as language-model pretraining does.
 */
export class PackedBatches {
  private buffer: number[] = [];

  constructor(
    private readonly generator: WorldGenerator,
    private readonly tokenizer: BpeTokenizer,
  ) {}

  next(batchSize: number, length: number): LmBatch {
    const need = batchSize * (length + 1);
    while (this.buffer.length < need)
      this.buffer.push(...this.tokenizer.encode(exampleText(this.generator.next())));
    const rows: number[][] = [];
    for (let b = 0; b < batchSize; b++)
      rows.push(this.buffer.slice(b * (length + 1), (b + 1) * (length + 1)));
    this.buffer = this.buffer.slice(need);
    const ones = rows.map(() => new Array<number>(length).fill(1));
    return {
      ids: rows.map((r) => r.slice(0, length)),
      targets: rows.map((r) => r.slice(1)),
      lossMask: ones,
      keyMask: ones,
    };
  }
}
