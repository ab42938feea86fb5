/**
 * The in-browser peer for `npm run bench`: @genai-fi/nanogpt's own training step (its model,
 * loss and AdamW, through its BasicTrainer) on random tokens, timed like the engine's. The
 * package bundles its own tfjs and offers cpu, webgl and webgpu backends (no WASM).
 *
 * Its files are imported by path, all from one place: the package's export map offers only
 * the high-level API, and one copy of its bundled tfjs must serve both imports.
 */
import BasicTrainer from '../../node_modules/@genai-fi/nanogpt/dist/training/BasicTrainer.js';
import { models } from '../../node_modules/@genai-fi/nanogpt/dist/main.js';
import { selectBackend } from '../../node_modules/@genai-fi/nanogpt/dist/backend.js';
// The bundled tfjs's `zeros`, under the name BasicTrainer itself imports it by (1.3.0).
// @ts-expect-error: the bundled chunk has no type declarations
import { kt as untypedZeros } from '../../node_modules/@genai-fi/nanogpt/dist/dist-Da20xy8E.js';
import type { Tensor } from '@tensorflow/tfjs-core';

const zeros = untypedZeros as (shape: number[], dtype: 'int32') => Tensor;

/** The trainer's own step (protected in its types): forward, loss, gradients, AdamW. */
type Stepper = { trainStep(state: object, batch: { xs: Tensor; ys: Tensor }): Tensor };

export interface PeerRequest {
  backend: 'cpu' | 'webgl' | 'webgpu';
  vocab: number;
  layers: number;
  heads: number;
  embed: number;
  mlpFactor: number;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
}

export interface PeerResult {
  backend: string;
  medianMs: number;
  tokensPerSecond: number;
  parameters: number;
  loss: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function trainBench(r: PeerRequest): Promise<PeerResult> {
  await selectBackend(r.backend);
  const model = new models.NanoGPTV1({
    modelType: 'GenAI_NanoGPT_v1',
    vocabSize: r.vocab,
    blockSize: r.seq,
    nLayer: r.layers,
    nHead: r.heads,
    nEmbed: r.embed,
    mlpFactor: r.mlpFactor,
    useRope: true,
  });
  // No tokeniser: the step reads token ids only.
  const trainer = new BasicTrainer(model, null as never, { learningRate: 1e-4, warmupSteps: 0 });
  // Token ids cost the same whatever they are (every op is dense): zeros, made with the
  // package's own tfjs, as its trainer's warm-up pass makes them.
  const xs = zeros([r.batch, r.seq], 'int32');
  const ys = zeros([r.batch, r.seq], 'int32');
  const state = { step: 0, totalSteps: 0, losses: [], validationLosses: [] };
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < r.warmup + r.steps; i++) {
    const start = performance.now();
    const value = (trainer as unknown as Stepper).trainStep(state, { xs, ys });
    loss = (await value.data())[0]!; // the loss read back, as the engine's step does
    value.dispose();
    if (i >= r.warmup) times.push(performance.now() - start);
  }
  xs.dispose();
  ys.dispose();
  const parameters = model.getNumParams();
  trainer.dispose();
  model.dispose();
  const ms = median(times);
  return {
    backend: r.backend,
    medianMs: ms,
    tokensPerSecond: (r.batch * r.seq) / (ms / 1000),
    parameters,
    loss,
  };
}

Object.assign(globalThis, { nanogptBench: trainBench });
document.body.dataset.ready = 'yes';
