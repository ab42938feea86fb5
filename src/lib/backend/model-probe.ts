/**
 * A quick measured probe of a model's speed on the active backend, before it is downloaded:
 * the same architecture with random weights, at 1 and then 2 decoder layers, times a training
 * step (LoRA's, or of every weight) and the decoding of new tokens with the KV cache; a model of L layers costs
 * about t(1) + (L - 1) (t(2) - t(1)) (the embedding and the head are in both). Seconds here,
 * not a benchmark: it exists to say "about an hour" before a download of hundreds of MB.
 */
import type { ModelConfig } from '../model/architecture/config.ts';
import { AdamW } from '../training/adamw.ts';
import { generate } from '../model/generation/generate.ts';
import { LlamaModel } from '../model/architecture/llama.ts';
import { LoraAdapter } from '../model/adapters/lora.ts';
import type { LoraConfig } from '../model/adapters/lora-config.ts';
import { trainStep } from '../training/train-step.ts';
import { randomBatch } from './train-bench.ts';
import type { ModelProbe } from '../domain/backend.ts';

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
}

/** Both times for a model of `layers` layers of `config`'s shape. */
async function probeLayers(
  config: ModelConfig,
  layers: number,
  lora: LoraConfig | null,
  batch: number,
  seq: number,
  shouldStop: () => Promise<void>,
): Promise<{ decode: number; train: number }> {
  const c = { ...config, num_hidden_layers: layers };
  // Trained as the run would: an adapter on a frozen base, or every weight.
  const base = LlamaModel.init(c, 1, lora !== null);
  const adapter = lora && LoraAdapter.init(c, lora, 2);
  const model = base.adapted(adapter);
  const optimizer = new AdamW(model.trainable());
  try {
    const data = randomBatch(c.vocab_size, batch, seq, 3);
    const prompts = data.ids.map((r) => r.slice(0, Math.max(1, seq >> 1)));
    const decode = (tokens: number) =>
      timed(() =>
        generate(model, prompts, {
          maxNewTokens: tokens,
          temperature: 0,
          topK: 0,
          topP: 1,
          seed: 1,
          eosIds: [],
          padId: c.pad_token_id,
        }),
      );
    await decode(1); // warm-up: shaders, kernels, buffers
    await shouldStop();
    const short = await decode(2);
    const long = await decode(6);
    await trainStep(model, optimizer, data, 1e-4); // warm-up
    await shouldStop();
    const train = await timed(() => trainStep(model, optimizer, data, 1e-4));
    return { decode: Math.max(0, long - short) / 4, train };
  } finally {
    optimizer.dispose();
    adapter?.dispose();
    base.dispose();
  }
}

export async function probeModel(
  config: ModelConfig,
  lora: LoraConfig | null,
  batch: number,
  seq: number,
  shouldStop: () => Promise<void>,
): Promise<ModelProbe> {
  const one = await probeLayers(config, 1, lora, batch, seq, shouldStop);
  const two = await probeLayers(config, 2, lora, batch, seq, shouldStop);
  const scale = (a: number, b: number) => a + Math.max(0, b - a) * (config.num_hidden_layers - 1);
  return {
    decodeStepSeconds: scale(one.decode, two.decode),
    trainStepSeconds: scale(one.train, two.train),
    batch,
    seq,
  };
}
