/**
 * `npm run bench`: measures the engine in headless Chromium, side by side in one run.
 *   - square matmul GFLOP/s at each size on each backend (the machine's measured peak that
 *     the efficiency figures divide by), and the start-up micro-benchmark of the backend choice;
 *   - training throughput (tokens/s) of the tiny model's training step per backend, against
 *     the same architecture in PyTorch on CPU and against @genai-fi/nanogpt in this browser,
 *     with achieved GFLOP/s and its share of the matmul peak;
 *   - generation tokens/s with and without the KV cache (tfjs, engine worker; transformers.js,
 *     feedback worker);
 *   - memory: engine tensors and bytes across PPO iterations, and the browser's peak memory;
 *   - with --pipeline, the whole default CAI pipeline's wall time per stage, headless and
 *     through the page's own Run button (a user's run), with the page's long tasks.
 * Prints tables, writes BENCHMARKS.md (and with --pipeline the page's time-estimate reference,
 * src/lib/runs/timing-reference.json), and with --json FILE the same figures as JSON.
 * Options: --sizes 256,512,1024  --reps 5  --backends webgpu,wasm,cpu
 *          --train-shapes 4x64,16x128  --train-steps 5  --train-backends wasm,cpu
 *          --peer-backends cpu,webgl  --gen-tokens 256  --gen-batches 1,16  --gen-backends wasm
 *          --ppo-iterations 100  --skip train,generation,memory  --pipeline  --json FILE
 *          --no-write  --only kernels|methods  --device-check
 *   - the kernels: dispatches and ms of a training step and a cached decode step of the tiny
 *     model per backend and kernel set (WebGPU stock and fused, WASM, CPU) in one engine worker;
 *     `--only kernels` runs just this part and rewrites only its section of BENCHMARKS.md;
 *   - RL-CAI's methods (PPO, DPO, GRPO, RLOO) from one SL-CAI policy and one labelling on the
 *     default experiment: each one's seconds, peak engine memory and figures; `--only methods`
 *     runs just this part and rewrites only its section (`--skip methods` leaves it out);
 *   - with --device-check (a machine with a real GPU), tokens/s of training and generation for
 *     the tiny model and a SmolLM2-135M-shaped one, WebGPU fused vs stock vs WASM, under 5 min;
 *   - with --model DIR, only that checkpoint (scripts/bench-model.ts, in Node on WASM): load,
 *     generation tokens/s at batch 1 and 8 with the KV cache, a LoRA training step's time and
 *     peak tensor bytes; --json FILE writes its figures.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BackendName, MatmulBenchResult } from '../src/lib/domain/backend.ts';
import { launchChromium } from './lib/browser.ts';
import { benchGeneration, generationTable } from './lib/bench-generation.ts';
import { benchMemory, memoryText } from './lib/bench-memory.ts';
import { pipelinePart, pipelineTable } from './lib/bench-pipeline.ts';
import { benchMethodsPart } from './lib/bench-methods.ts';
import {
  benchNanogpt,
  benchOurTraining,
  benchTorch,
  trainTable,
  type TrainRow,
} from './lib/bench-train.ts';
import { describeMachine } from './lib/machine.ts';
import { benchKernelPart, deviceCheck } from './lib/bench-kernel-report.ts';
import { matmulTable, probeTable } from './lib/bench-tables.ts';
import { buildApp, serveVite } from './lib/serve.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    reps: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'webgpu,wasm,cpu' },
    'train-shapes': { type: 'string', default: '4x64,16x128' },
    'train-steps': { type: 'string', default: '5' },
    'train-backends': { type: 'string', default: 'wasm,cpu' },
    'peer-backends': { type: 'string', default: 'cpu,webgl' },
    'gen-tokens': { type: 'string', default: '256' },
    'gen-batches': { type: 'string', default: '1,16' },
    'gen-backends': { type: 'string', default: 'wasm' },
    'ppo-iterations': { type: 'string', default: '100' },
    skip: { type: 'string', default: '' },
    json: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    pipeline: { type: 'boolean', default: false },
    model: { type: 'string' },
    only: { type: 'string' },
    'device-check': { type: 'boolean', default: false },
  },
});
if (args.only !== undefined && args.only !== 'kernels' && args.only !== 'methods')
  throw new Error(`--only ${args.only}: the parts that run alone are "kernels" and "methods".`);
const sizes = args.sizes.split(',').map(Number);
const reps = Number(args.reps);
const backends = args.backends.split(',') as BackendName[];
const skip = new Set(args.skip.split(',').filter(Boolean));
const shapes = args['train-shapes'].split(',').map((s) => {
  const [batch, seq] = s.split('x').map(Number);
  return { batch: batch!, seq: seq! };
});
const trainSteps = Number(args['train-steps']);

/** `--model DIR`: the checkpoint's own figures, in Node (tfjs needs the bundling runner there). */
function benchModel(dir: string): never {
  const extra = args.json ? ['--json', args.json] : [];
  const run = spawnSync(
    process.execPath,
    ['scripts/run-ts.mjs', 'scripts/bench-model.ts', dir, ...extra],
    { stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}

async function main(): Promise<void> {
  if (args.model) benchModel(args.model);
  console.log('Building the app…');
  await buildApp();
  const server = await serveVite();
  const browser = await launchChromium();
  try {
    if (args['device-check']) return await deviceCheck(browser, server.url, args.json);
    if (args.only === 'methods') {
      await benchMethodsPart(browser, server.url, !args['no-write']);
      return;
    }
    const kernels =
      skip.has('kernels') || args.only === 'methods'
        ? null
        : await benchKernelPart(browser, server.url, {
            backends,
            only: args.only === 'kernels',
            json: args.json,
            write: !args['no-write'],
          });
    if (args.only === 'kernels') return;
    const page = await browser.newPage();
    page.on('console', (msg) => {
      if (msg.text().startsWith('[bench]')) console.log(msg.text());
    });
    await page.goto(server.url);
    await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
    const chosen = (await page.getByTestId('backend-name').textContent()) ?? '';
    const why = (await page.getByTestId('backend-why').textContent()) ?? '';
    const request = { type: 'matmulBench' as const, sizes, reps, backends };
    const result: MatmulBenchResult = await page.evaluate(async (req) => {
      type Handle = { engine: import('../src/lib/workers/clients.ts').EngineClient };
      const { engine } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
      return engine.request(req, (event) => {
        if (event.status === 'progress')
          console.log(`[bench] ${event.done}/${event.total} ${event.message}`);
      });
    }, request);

    await page.close();
    // The matmul peak of each backend: its best GFLOP/s over the sizes measured.
    const peaks: Partial<Record<string, number>> = {};
    for (const r of result.rows) peaks[r.backend] = Math.max(peaks[r.backend] ?? 0, r.gflops);

    let training: { rows: TrainRow[]; notes: string[] } | null = null;
    if (!skip.has('train')) {
      const ours = await benchOurTraining(
        browser,
        server.url,
        args['train-backends'].split(',') as BackendName[],
        shapes,
        trainSteps,
      );
      const torch = benchTorch(shapes, trainSteps);
      const dev = await serveVite('dev');
      let peer;
      try {
        peer = await benchNanogpt(
          browser,
          dev.url,
          args['peer-backends'].split(',') as ('cpu' | 'webgl' | 'webgpu')[],
          shapes,
          trainSteps,
        );
      } finally {
        await dev.stop();
      }
      training = {
        rows: [...ours.rows, ...torch.rows, ...peer.rows],
        notes: [
          torch.note,
          ...ours.skipped.map((s) => `ours skipped ${s}`),
          ...peer.skipped.map((s) => `@genai-fi/nanogpt skipped ${s}`),
        ].filter(Boolean),
      };
    }

    const generation = skip.has('generation')
      ? []
      : await benchGeneration(browser, server.url, {
          backends: args['gen-backends'].split(',') as BackendName[],
          batches: args['gen-batches'].split(',').map(Number),
          newTokens: Number(args['gen-tokens']),
        });

    const memory = skip.has('memory')
      ? null
      : await benchMemory(browser, server.url, Number(args['ppo-iterations']));

    const methods = skip.has('methods') ? null : await benchMethodsPart(browser, server.url, false);
    const machine = describeMachine();
    const { pipeline, pagePipeline } = args.pipeline
      ? await pipelinePart(browser, server.url, machine, !args['no-write'])
      : { pipeline: null, pagePipeline: null };
    const report = [
      '# Benchmarks',
      '',
      `Machine: ${machine}.`,
      `Date: ${new Date().toISOString().slice(0, 10)}. Engine's automatic choice: ${chosen} (${why}).`,
      '',
      `## Matmul throughput in the engine worker (${reps} reps after a warm-up, median)`,
      '',
      matmulTable(result, backends, sizes),
      '',
      ...(training
        ? [
            `## Training throughput: one step of the tiny model's architecture (median of ${trainSteps} after 2 warm-up steps)`,
            '',
            'Next-token cross-entropy on random tokens, backward, AdamW with global-norm clipping, the loss read back. GFLOP/s counts every matmul (2 per multiply-add, backward twice the forward); "of matmul peak" divides it by the best square-matmul GFLOP/s of the same backend above.',
            '',
            trainTable(training.rows, peaks),
            '',
            ...training.notes.map((n) => `- ${n}`),
            '- @genai-fi/nanogpt: the closest configuration it has (same width, depth, heads, vocabulary and sequence length; its GELU MLP and full multi-head attention), its BasicTrainer step, its bundled tfjs (it has no WASM backend).',
            '',
          ]
        : []),
      ...(generation.length
        ? [
            `## Generation with the shipped model (${args['gen-tokens']} new tokens, greedy, tokens/s)`,
            '',
            generationTable(generation),
            '',
          ]
        : []),
      ...(memory ? ['## Memory over a long PPO run', '', memoryText(memory), ''] : []),
      ...(kernels ? [kernels.section, ''] : []),
      ...(methods ? [methods.section, ''] : []),
      ...(pipeline
        ? [
            `## The full default pipeline (${pipeline.backend}, default experiment, seed 1)`,
            '',
            pipelineTable(pipeline, pagePipeline),
            '',
            `Engine tensors after each PPO iteration: ${pipeline.ppoTensors.join(', ')}.`,
            '',
          ]
        : []),
      '## Optimizations, before and after',
      '',
      readFileSync('scripts/bench-optimizations.md', 'utf8').trim(),
      '',
      '## Start-up micro-benchmark (what the backend choice measures)',
      '',
      probeTable(result.probes),
      ...(result.skipped.length
        ? ['', ...result.skipped.map((s) => `Skipped ${s.backend}: ${s.reason}`)]
        : []),
      '',
      'Regenerate with `npm run bench`.',
      '',
    ].join('\n');
    console.log('\n' + report);
    if (!args['no-write']) writeFileSync('BENCHMARKS.md', report);
    if (args.json)
      writeFileSync(
        args.json,
        JSON.stringify(
          {
            machine,
            chosen,
            why,
            sizes,
            reps,
            ...result,
            peaks,
            training,
            generation,
            memory,
            pipeline,
            pagePipeline,
            kernels: kernels?.rows ?? null,
          },
          null,
          2,
        ) + '\n',
      );
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
