/**
 * `npm run bench`: measures the engine worker in headless Chromium, side by side in one run.
 *   - square matmul GFLOP/s at each size on each backend (the machine's measured limit that
 *     later efficiency figures divide by);
 *   - the start-up micro-benchmark the backend choice uses;
 *   - generation tokens/s of the shipped model with and without the KV cache, per backend
 *     (tfjs, engine worker) and through transformers.js (feedback worker).
 * Prints tables, writes BENCHMARKS.md, and with --json FILE the same figures as JSON.
 *
 *   - with --pipeline, the whole default CAI pipeline (SL-CAI and RL-CAI): wall time per
 *     stage, and the engine's tensor count after every PPO iteration.
 * Options: --sizes 256,512,1024  --reps 5  --backends webgpu,wasm,cpu  --gen-tokens 64
 *          --gen-batches 1,4  --pipeline  --json FILE  --no-write
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type {
  BackendName,
  CandidateReport,
  MatmulBenchResult,
} from '../src/lib/workers/protocol.ts';
import { launchChromium } from './lib/browser.ts';
import { benchGeneration, generationTable } from './lib/bench-generation.ts';
import { benchPipeline, pipelineTable } from './lib/bench-pipeline.ts';
import { describeMachine } from './lib/machine.ts';
import { buildApp, serveVite } from './lib/serve.ts';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    reps: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'webgpu,wasm,cpu' },
    'gen-tokens': { type: 'string', default: '64' },
    'gen-batches': { type: 'string', default: '1,4' },
    json: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    pipeline: { type: 'boolean', default: false },
  },
});
const sizes = args.sizes.split(',').map(Number);
const reps = Number(args.reps);
const backends = args.backends.split(',') as BackendName[];

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function matmulTable(result: MatmulBenchResult): string {
  const rows = backends.map((backend) => [
    backend,
    ...sizes.map((size) => {
      const row = result.rows.find((r) => r.backend === backend && r.size === size);
      return row ? `${row.gflops.toFixed(2)} (${row.medianMs.toFixed(1)} ms)` : 'n/a';
    }),
  ]);
  return table(['backend', ...sizes.map((s) => `${s}² GFLOP/s (median)`)], rows);
}

function probeTable(probes: CandidateReport[]): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
  const rows = probes.map((p) => [
    p.backend,
    ms(p.matmulMs),
    ms(p.trainStepMs),
    p.maxRelError === null ? 'n/a' : p.maxRelError.toExponential(1),
    ms(p.probeMs),
  ]);
  return table(
    ['backend', 'matmul 256² ms', 'Adam step ms', 'error vs float64', 'whole probe ms'],
    rows,
  );
}

async function main(): Promise<void> {
  console.log('Building the app…');
  await buildApp();
  const server = await serveVite();
  const browser = await launchChromium();
  try {
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
    const generation = await benchGeneration(browser, server.url, {
      backends,
      batches: args['gen-batches'].split(',').map(Number),
      newTokens: Number(args['gen-tokens']),
    });

    let pipeline = null;
    if (args.pipeline) {
      console.log('The whole default pipeline (SL-CAI and RL-CAI)…');
      pipeline = await benchPipeline(browser, server.url);
    }

    const machine = describeMachine();
    const report = [
      '# Benchmarks',
      '',
      `Machine: ${machine}.`,
      `Date: ${new Date().toISOString().slice(0, 10)}. Engine's automatic choice: ${chosen} (${why}).`,
      '',
      `## Matmul throughput in the engine worker (${reps} reps after a warm-up, median)`,
      '',
      matmulTable(result),
      '',
      `## Generation with the shipped model (${args['gen-tokens']} new tokens, greedy, tokens/s)`,
      '',
      generationTable(generation),
      '',
      ...(pipeline
        ? [
            `## The full default pipeline (${pipeline.backend}, default experiment, seed 1)`,
            '',
            pipelineTable(pipeline),
            '',
            `Engine tensors after each PPO iteration: ${pipeline.ppoTensors.join(', ')}.`,
            '',
          ]
        : []),
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
          { machine, chosen, why, sizes, reps, ...result, generation, pipeline },
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
