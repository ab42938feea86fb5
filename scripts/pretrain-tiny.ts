/**
 * `npm run pretrain`: trains the tiny world's model from scratch and writes models/tiny-cai/
 * in the Hugging Face layout. Deterministic from --seed (same corpus, tokenizer, init and
 * batches; float results may differ in the last bits across machines).
 *
 * Options: --seed 1  --steps 1200  --batch 16  --length 256  --lr 3e-3  --out models/tiny-cai
 *          --init-from DIR  (continue from a checkpoint: its tokenizer and weights; a new
 *                            optimizer and schedule, and a corpus stream seeded by --seed)
 *          --task-mix answer=0.4,critique=0.25,revision=0.2,preference=0.15
 *          --feedback-comply 0.33  (share of complying responses in critique/revision examples)
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AdamW, warmupCosine } from '../src/lib/model/adamw.ts';
import { parameterCount, tinyConfig } from '../src/lib/model/config.ts';
import { LlamaModel } from '../src/lib/model/llama.ts';
import { trainStep } from '../src/lib/model/train-step.ts';
import { BpeTokenizer, trainBpe } from '../src/lib/tokenizer/bpe.ts';
import { chatTokens, specialTokens } from '../src/lib/tokenizer/hf-files.ts';
import { exampleText, PackedBatches } from '../src/lib/world/corpus.ts';
import {
  defaultWorldConfig,
  WorldGenerator,
  type WorldConfig,
} from '../src/lib/world/generator.ts';
import { loadModelFolder, saveModelFolder } from './lib/model-folder.ts';
import { useNodeWasm } from './lib/node-tfjs.ts';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    steps: { type: 'string', default: '1200' },
    batch: { type: 'string', default: '16' },
    length: { type: 'string', default: '256' },
    lr: { type: 'string', default: '3e-3' },
    vocab: { type: 'string', default: '1536' },
    out: { type: 'string', default: join('models', 'tiny-cai') },
    'init-from': { type: 'string' },
    'task-mix': { type: 'string' },
    'feedback-comply': { type: 'string' },
  },
});
const seed = Number(args.seed);
const steps = Number(args.steps);
const batchSize = Number(args.batch);
const length = Number(args.length);
const peakLr = Number(args.lr);

function parseTaskMix(text: string | undefined): WorldConfig['taskMix'] {
  const mix = { ...defaultWorldConfig.taskMix };
  for (const part of text ? text.split(',') : []) {
    const [task, share] = part.split('=');
    if (!task || !(task in mix) || !Number.isFinite(Number(share)))
      throw new Error(
        `--task-mix: "${part}" is not task=share (tasks: ${Object.keys(mix).join(', ')}).`,
      );
    mix[task as keyof typeof mix] = Number(share);
  }
  return mix;
}

function bar(done: number, total: number, width = 30): string {
  const filled = Math.round((done / total) * width);
  return '[' + '#'.repeat(filled) + '.'.repeat(width - filled) + ']';
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

async function main(): Promise<void> {
  const backend = await useNodeWasm();
  const start = performance.now();

  // 1. The tokenizer, trained on a sample of the corpus (a different stream than training's),
  // 2. and the model: new, or continued from a checkpoint.
  let tokenizer: BpeTokenizer;
  let model: LlamaModel;
  if (args['init-from']) {
    ({ model, tokenizer } = loadModelFolder(args['init-from']));
  } else {
    const sample = new WorldGenerator(seed * 1000 + 7);
    const texts = Array.from({ length: 20000 }, () => exampleText(sample.next()));
    tokenizer = new BpeTokenizer(trainBpe(texts, Number(args.vocab), specialTokens));
    const special = {
      eos: tokenizer.idOf(chatTokens.end),
      pad: tokenizer.idOf(chatTokens.endOfText),
    };
    model = LlamaModel.init(tinyConfig(tokenizer.vocabSize, special), seed);
  }
  const config = model.config;
  const optimizer = new AdamW(model.params);
  console.log(
    `Pretraining the tiny model on ${backend}: ${parameterCount(config).toLocaleString('en')} parameters, ` +
      `vocabulary ${tokenizer.vocabSize}, ${steps} steps of ${batchSize}×${length} tokens` +
      (args['init-from'] ? `, continuing from ${args['init-from']}.` : '.'),
  );
  mkdirSync(args.out, { recursive: true });
  const logFile = join(args.out, 'pretrain-log.csv');
  writeFileSync(logFile, 'step,loss,lr,grad_norm,seconds\n');

  // 3. Training on packed batches of fresh conversations.
  const comply = args['feedback-comply'] === undefined ? 1 / 3 : Number(args['feedback-comply']);
  const world: WorldConfig = {
    ...defaultWorldConfig,
    taskMix: parseTaskMix(args['task-mix']),
    feedbackResponseMix: { comply, refuse: (1 - comply) / 2, engage: (1 - comply) / 2 },
  };
  const batches = new PackedBatches(new WorldGenerator(seed, world), tokenizer);
  const warmup = Math.min(100, Math.floor(steps / 10));
  let smoothed = NaN;
  for (let step = 0; step < steps; step++) {
    const lr = warmupCosine(step, steps, warmup, peakLr);
    const { loss, gradNorm } = await trainStep(
      model,
      optimizer,
      batches.next(batchSize, length),
      lr,
    );
    if (!Number.isFinite(loss)) throw new Error(`Loss became ${loss} at step ${step}.`);
    smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
    const elapsed = performance.now() - start;
    appendFileSync(
      logFile,
      `${step},${loss.toFixed(4)},${lr.toExponential(3)},${gradNorm.toFixed(3)},${(elapsed / 1000).toFixed(1)}\n`,
    );
    const eta = (elapsed / (step + 1)) * (steps - step - 1);
    process.stdout.write(
      `\r${bar(step + 1, steps)} step ${step + 1}/${steps} loss ${smoothed.toFixed(3)} lr ${lr.toExponential(1)} ` +
        `elapsed ${minutes(elapsed)} eta ${minutes(eta)}   `,
    );
    if ((step + 1) % 250 === 0 || step + 1 === steps)
      await saveModelFolder(args.out, model, tokenizer, { seed, steps: step + 1, loss: smoothed });
  }
  process.stdout.write('\n');
  console.log(
    `Done in ${minutes(performance.now() - start)}; final loss (smoothed) ${smoothed.toFixed(3)}. Wrote ${args.out}/.`,
  );
  console.log(`Tensors alive at the end: ${tf.memory().numTensors}.`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('\n' + (error instanceof Error ? error.stack : String(error)));
    process.exit(1);
  },
);
