/**
 * The checkpoint part of `npm run bench -- --model DIR`, run in Node on tfjs's WASM backend (the
 * browser's WASM binary; Node runs it on the same threads policy): load time and tensor bytes,
 * generation tokens/s at batch 1 and 8 with the KV cache, and LoRA training steps (ms each, and
 * the peak tensor bytes of the first, which also creates the optimizer's states). Prints a table
 * and, with --json FILE, writes the figures.
 * Options: --backend wasm|cpu  --gen-tokens 32  --prompt-tokens 16  --gen-batches 1,8
 *          --train-shape 1x64  --lora-rank 8
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdamW } from '../src/lib/training/adamw.ts';
import { loadModel } from '../src/lib/model/checkpoints/checkpoint.ts';
import { generate } from '../src/lib/model/generation/generate.ts';
import { LoraAdapter } from '../src/lib/model/adapters/lora.ts';
import { realModelLora } from '../src/lib/model/adapters/lora-config.ts';
import { memoryPlan, wasmHeapBytes } from '../src/lib/model/memory-plan.ts';
import { trainStep } from '../src/lib/training/train-step.ts';
import { formatBytes } from '../src/lib/util/format-bytes.ts';
import { Rng } from '../src/lib/util/random.ts';
import { folderSource } from './lib/folder-source.ts';
import { useNodeCpu, useNodeWasm } from './lib/node-tfjs.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string', default: 'wasm' },
    'gen-tokens': { type: 'string', default: '32' },
    'prompt-tokens': { type: 'string', default: '16' },
    'gen-batches': { type: 'string', default: '1,8' },
    'train-shape': { type: 'string', default: '1x64' },
    'lora-rank': { type: 'string', default: String(realModelLora.rank) },
    json: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const dir = positionals[0];
  if (!dir) throw new Error('Usage: bench-model DIR [options]');
  const backend = args.backend === 'cpu' ? await useNodeCpu() : await useNodeWasm();
  const rng = new Rng(1);
  const t0 = performance.now();
  const { model, dtypes } = await loadModel(folderSource(dir), true);
  const loadMs = performance.now() - t0;
  const c = model.config;
  const weightsBytes = tf.memory().numBytes;
  const randomIds = (n: number) => Array.from({ length: n }, () => rng.int(c.vocab_size));
  const promptTokens = Number(args['prompt-tokens']);
  const genTokens = Number(args['gen-tokens']);
  const generation: { batch: number; tokensPerSecond: number; ms: number }[] = [];
  for (const batch of args['gen-batches'].split(',').map(Number)) {
    const prompts = Array.from({ length: batch }, () => randomIds(promptTokens));
    const start = performance.now();
    const out = await generate(model, prompts, {
      maxNewTokens: genTokens,
      seed: 1,
      eosIds: [],
      padId: c.pad_token_id,
      temperature: 1,
      topK: 0,
      topP: 1,
    });
    const ms = performance.now() - start;
    const tokens = out.tokens.reduce((n, t) => n + t.length, 0);
    generation.push({ batch, tokensPerSecond: (1000 * tokens) / ms, ms });
  }
  const [rows, length] = args['train-shape'].split('x').map(Number) as [number, number];
  const rank = Number(args['lora-rank']);
  const lora = { ...realModelLora, rank, alpha: 2 * rank };
  const adapter = LoraAdapter.init(c, lora, 1);
  model.adapter = adapter;
  adapter.training = true;
  const optimizer = new AdamW(model.trainable());
  const ids = Array.from({ length: rows }, () => randomIds(length));
  const batch = {
    ids,
    targets: ids.map((r) => [...r.slice(1), c.pad_token_id]),
    lossMask: ids.map((r) => r.map(() => 1)),
    keyMask: ids.map((r) => r.map(() => 1)),
  };
  let first = { loss: 0, gradNorm: 0 };
  let stepMs = 0;
  const profile = await tf.profile(async () => {
    const start = performance.now();
    first = await trainStep(model, optimizer, batch, 1e-4);
    stepMs = performance.now() - start;
  });
  const laterMs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const start = performance.now();
    await trainStep(model, optimizer, batch, 1e-4);
    laterMs.push(performance.now() - start);
  }
  const plan = memoryPlan(
    c,
    lora,
    { batch: rows, promptTokens: 0, answerTokens: length },
    {
      backend: args.backend,
      totalBytes: args.backend === 'wasm' ? wasmHeapBytes : null,
      maxTensorBytes: null,
    },
  );
  const result = {
    model: dir,
    architecture: c.architectures[0],
    parameters: [...model.params.values()].reduce((n, v) => n + v.size, 0),
    storedDtypes: dtypes,
    backend,
    loadMs,
    weightsBytes,
    generation,
    lora: {
      rank,
      trainShape: `${rows}x${length}`,
      adapterParameters: adapter.variables().reduce((n, v) => n + v.size, 0),
      firstStepMs: stepMs,
      stepMs: laterMs,
      peakTensorBytes: profile.peakBytes,
      loss: first.loss,
      plannedBytes: plan.totalBytes,
    },
  };
  console.log(
    `${dir}: ${result.architecture}, ${(result.parameters / 1e6).toFixed(1)}M parameters, on ${backend}`,
  );
  console.log(`| measure | value |\n| --- | --- |`);
  console.log(
    `| load (read, convert, upload) | ${(loadMs / 1000).toFixed(1)} s, ${formatBytes(weightsBytes)} of tensors |`,
  );
  for (const g of generation)
    console.log(
      `| generation, batch ${g.batch}, ${promptTokens}-token prompts, ${genTokens} new tokens, KV cache | ${g.tokensPerSecond.toFixed(1)} tokens/s |`,
    );
  console.log(
    `| LoRA step (rank ${rank}, ${result.lora.adapterParameters} trained), batch ${rows} x ${length} tokens, first | ${stepMs.toFixed(0)} ms |`,
  );
  console.log(`| LoRA step, later | ${laterMs.map((m) => m.toFixed(0)).join(', ')} ms |`);
  console.log(
    `| peak tensor memory in the first step | ${formatBytes(profile.peakBytes)} (plan: ${formatBytes(plan.totalBytes)} for all of PPO) |`,
  );
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
