/**
 * Training throughput of the policy's architecture, for `npm run bench`: timed AdamW steps of
 * next-token training on random tokens, and the floating-point work they do, so the bench can
 * put tokens/s beside other trainers and GFLOP/s beside the backend's matmul peak.
 */
import type { ModelConfig } from '../model/architecture/config.ts';
import { AdamW } from '../training/adamw.ts';
import { LlamaModel } from '../model/architecture/llama.ts';
import { trainStep, type LmBatch } from '../training/train-step.ts';
import type { BackendName, TrainBenchRow } from '../domain/backend.ts';
import { median } from './matmul-bench.ts';
import { mulberry32 } from '../util/random.ts';

/**
 * Floating-point operations of one forward pass over `batch` sequences of `seq` tokens:
 * 2 per multiply-add of every matmul, as computed (attention over the full T x T square, as
 * masked attention computes it). Norms, softmax and activations are left out: the convention
 * of model-FLOPs counts, which the efficiency figure divides by the matmul peak.
 */
export function forwardFlops(c: ModelConfig, batch: number, seq: number): number {
  const d = c.hidden_size;
  const attnWidth = c.num_attention_heads * c.head_dim;
  const kvWidth = c.num_key_value_heads * c.head_dim;
  const perToken =
    c.num_hidden_layers *
      (2 * d * attnWidth * 2 + // q and o projections
        2 * d * kvWidth * 2 + // k and v projections
        2 * d * c.intermediate_size * 3 + // gate, up, down
        2 * seq * attnWidth * 2) + // q·kᵀ and attention·v, over `seq` keys
    2 * d * c.vocab_size; // the LM head
  return perToken * batch * seq;
}

/** A training step costs its forward pass and a backward pass of twice that. */
export const trainFlops = (c: ModelConfig, batch: number, seq: number) =>
  3 * forwardFlops(c, batch, seq);

/** Random tokens as a full next-token batch: ids, targets (shifted), every position counted. */
export function randomBatch(vocab: number, batch: number, seq: number, seed: number): LmBatch {
  const rand = mulberry32(seed);
  const rows = Array.from({ length: batch }, () =>
    Array.from({ length: seq + 1 }, () => Math.floor(rand() * vocab)),
  );
  const ones = () => Array.from({ length: batch }, () => new Array<number>(seq).fill(1));
  return {
    ids: rows.map((r) => r.slice(0, seq)),
    targets: rows.map((r) => r.slice(1)),
    lossMask: ones(),
    keyMask: ones(),
  };
}

/** Times `steps` training steps (after `warmup`) of a fresh model with `config`. */
export async function benchTrainStep(
  backend: BackendName,
  config: ModelConfig,
  batch: number,
  seq: number,
  steps: number,
  warmup: number,
  shouldStop: () => Promise<void>,
): Promise<TrainBenchRow> {
  const model = LlamaModel.init(config, 1);
  const optimizer = new AdamW(model.trainable());
  const data = randomBatch(config.vocab_size, batch, seq, 7);
  try {
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      await shouldStop();
      const start = performance.now();
      await trainStep(model, optimizer, data, 1e-4);
      if (i >= warmup) times.push(performance.now() - start);
    }
    const ms = median(times);
    return {
      backend,
      batch,
      seq,
      medianMs: ms,
      tokensPerSecond: (batch * seq) / (ms / 1000),
      gflops: trainFlops(config, batch, seq) / (ms * 1e6),
      steps,
    };
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}
