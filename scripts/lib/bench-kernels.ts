import type { Browser } from 'playwright-core';
import type { BackendName } from '../../src/lib/domain/backend.ts';
import type { KernelBenchRow, KernelBenchShape } from '../../src/lib/domain/kernels.ts';
import { parseModelConfig, type ModelConfig } from '../../src/lib/model/architecture/config.ts';
import { checkpointShapes } from './random-checkpoint.ts';
import type { EngineRequest } from '../../src/lib/workers/protocol.ts';

/**
 * The bench's kernel part (`npm run bench -- --only kernels`): dispatches and time of a
 * training step and a cached decode step of the tiny model per backend and kernel set, in one
 * engine worker, so stock and fused are timed side by side in the same run; and the device
 * check (`--device-check`), tokens/s on a real GPU for the tiny model and a SmolLM2-135M-shaped
 * one.
 */

/** The step sizes: small enough for a software WebGPU adapter to time in seconds. */
export const kernelShape = {
  train: { batch: 2, seq: 32 },
  decode: { batch: 1, past: 32 },
  reps: 6,
} satisfies KernelBenchShape;

/** SmolLM2-135M's architecture (its config.json), for the device check's fresh weights. */
export const smollm2Shape = parseModelConfig(checkpointShapes['smollm2-135m']);

type BenchRequest = Extract<EngineRequest, { type: 'kernelBench' }>;

/** Runs one kernel bench request in a fresh page of the served app (WebGPU forced on). */
export async function benchKernelsIn(
  browser: Browser,
  url: string,
  request: BenchRequest,
): Promise<KernelBenchRow[]> {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.text().startsWith('[bench]')) console.log(msg.text());
  });
  try {
    await page.goto(`${url}?backend=webgpu`);
    await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
    return await page.evaluate(async (req) => {
      type Handle = { engine: import('../../src/lib/workers/clients.ts').EngineClient };
      const { engine } = (globalThis as unknown as { caiPlayground: Handle }).caiPlayground;
      const result = await engine.request(req, (event) => {
        if (event.status === 'progress')
          console.log(`[bench] ${event.done}/${event.total} ${event.message}`);
      });
      return result.rows;
    }, request);
  } finally {
    await page.close();
  }
}

const tokensOf = (shape: KernelBenchShape, step: 'train' | 'decode') =>
  step === 'train' ? shape.train!.batch * shape.train!.seq : shape.decode.batch;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The kernels table: each row beside the stock row of its backend and step. */
export function kernelsTable(rows: KernelBenchRow[], shape: KernelBenchShape): string {
  const stock = (r: KernelBenchRow) =>
    rows.find((s) => s.backend === r.backend && s.step === r.step && s.kernels === 'stock')!;
  return table(
    ['backend', 'kernels', 'step', 'dispatches', 'of stock', 'ms (median)', 'speed-up', 'tokens/s'],
    rows.map((r) => [
      r.backend,
      r.kernels,
      r.step,
      String(r.dispatches),
      `${((100 * r.dispatches) / stock(r).dispatches).toFixed(0)}%`,
      r.ms.toFixed(1),
      `${(stock(r).ms / r.ms).toFixed(2)}x`,
      ((tokensOf(shape, r.step) * 1000) / r.ms).toFixed(0),
    ]),
  );
}

/**
 * The device check's runs, at sizes a real GPU times in seconds: the tiny model on WebGPU
 * (fused, stock) and WASM; SmolLM2-135M's shape on WebGPU, and its decode step on WASM (a full
 * fine-tune of 135M parameters does not fit WASM's 4 GiB heap).
 */
export const deviceCheckRuns: {
  name: string;
  backends: BackendName[];
  shape: KernelBenchShape;
  architecture: { model: string } | { config: ModelConfig };
}[] = [
  {
    name: 'tiny-cai',
    backends: ['webgpu', 'wasm'],
    shape: { train: { batch: 16, seq: 128 }, decode: { batch: 16, past: 128 }, reps: 3 },
    architecture: { model: 'tiny-cai' },
  },
  {
    name: 'SmolLM2-135M shape',
    backends: ['webgpu'],
    shape: { train: { batch: 4, seq: 128 }, decode: { batch: 4, past: 128 }, reps: 2 },
    architecture: { config: smollm2Shape },
  },
  {
    name: 'SmolLM2-135M shape',
    backends: ['wasm'],
    shape: { train: null, decode: { batch: 4, past: 128 }, reps: 2 },
    architecture: { config: smollm2Shape },
  },
];

export const deviceCheckRequest = (run: (typeof deviceCheckRuns)[number]): BenchRequest => ({
  type: 'kernelBench',
  backends: run.backends,
  shape: run.shape,
  ...run.architecture,
});

/** The device check's table: tokens/s of each model, backend and kernel set. */
export function deviceCheckTable(
  results: { run: (typeof deviceCheckRuns)[number]; rows: KernelBenchRow[] }[],
): string {
  return table(
    ['model', 'backend', 'kernels', 'step', 'batch × tokens', 'ms (median)', 'tokens/s'],
    results.flatMap(({ run, rows }) =>
      rows.map((r) => {
        const s = run.shape;
        const size =
          r.step === 'train' ? `${s.train!.batch} × ${s.train!.seq}` : `${s.decode.batch} × 1`;
        return [
          run.name,
          r.backend,
          r.kernels,
          r.step,
          size,
          r.ms.toFixed(1),
          ((tokensOf(s, r.step) * 1000) / r.ms).toFixed(0),
        ];
      }),
    ),
  );
}
