import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { PeerRequest, PeerResult } from '../bench-pages/nanogpt-train.ts';
import type { EngineClient } from '../../src/lib/workers/clients.ts';
import type { BackendName, TrainBenchRow } from '../../src/lib/domain/backend.ts';

/** One training-throughput row: who trained, where, on what shape, how fast. */
export interface TrainRow {
  trainer: 'ours (tfjs)' | 'PyTorch CPU' | '@genai-fi/nanogpt';
  backend: string;
  batch: number;
  seq: number;
  medianMs: number;
  tokensPerSecond: number;
  /** Achieved GFLOP/s by our FLOP count (ours only). */
  gflops?: number;
}

export interface Shape {
  batch: number;
  seq: number;
}

const configPath = 'models/tiny-cai/config.json';

/** Our training step in the engine worker of the built app, per backend and shape. */
export async function benchOurTraining(
  browser: Browser,
  url: string,
  backends: BackendName[],
  shapes: Shape[],
  steps: number,
): Promise<{ rows: TrainRow[]; skipped: string[] }> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.getByTestId('backend-name').waitFor({ timeout: 120_000 });
    const out = await page.evaluate(
      async (req) => {
        const { engine } = (globalThis as unknown as { caiPlayground: { engine: EngineClient } })
          .caiPlayground;
        await engine.request({ type: 'loadPolicy', model: 'tiny-cai', reuse: true });
        return engine.request({ type: 'trainBench', ...req }, (e) => {
          if (e.status === 'progress') console.log(`[bench] ${e.message}`);
        });
      },
      { backends, shapes, steps, warmup: 2 },
    );
    return {
      rows: out.rows.map((r: TrainBenchRow) => ({
        trainer: 'ours (tfjs)',
        backend: r.backend,
        batch: r.batch,
        seq: r.seq,
        medianMs: r.medianMs,
        tokensPerSecond: r.tokensPerSecond,
        gflops: r.gflops,
      })),
      skipped: out.skipped.map((s) => `${s.backend}: ${s.reason}`),
    };
  } finally {
    await page.close();
  }
}

/** Whether Debian's PyTorch is importable by /usr/bin/python3, with OpenBLAS beside it. */
function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread');
  } catch {
    return false;
  }
}

function withoutOpenblasOverride(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/**
 * The same architecture, batch and sequence length in PyTorch on CPU (our reference script,
 * scripts/bench-torch/train_step.py). Debian's python3-torch is installed with apt-get when
 * missing (root on these machines); a failed install skips these rows with the reason.
 */
export function benchTorch(shapes: Shape[], steps: number): { rows: TrainRow[]; note: string } {
  if (!hasTorch()) {
    console.log('[bench] installing python3-torch with apt-get (once)…');
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      // OpenBLAS, or PyTorch multiplies with Debian's reference BLAS, one thread (4x slower).
      execFileSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (error) {
      return { rows: [], note: `PyTorch rows skipped: apt-get failed (${String(error)})` };
    }
  }
  const rows: TrainRow[] = [];
  let note = '';
  for (const { batch, seq } of shapes) {
    console.log(`[bench] PyTorch CPU training step, batch ${batch} × ${seq} tokens`);
    const out = JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        [
          'scripts/bench-torch/train_step.py',
          configPath,
          '--batch',
          String(batch),
          '--seq',
          String(seq),
          '--steps',
          String(steps),
        ],
        // OpenBLAS at its best: without the core-type override these machines set for old
        // builds (the losses match with and without it, so the results are right).
        { encoding: 'utf8', env: withoutOpenblasOverride() },
      ),
    ) as {
      torch: string;
      threads: number;
      blas: string;
      median_step_ms: number;
      tokens_per_second: number;
    };
    note = `PyTorch ${out.torch} (Debian's python3-torch) with ${out.blas} BLAS, ${out.threads} threads`;
    rows.push({
      trainer: 'PyTorch CPU',
      backend: 'cpu',
      batch,
      seq,
      medianMs: out.median_step_ms,
      tokensPerSecond: out.tokens_per_second,
    });
  }
  return { rows, note };
}

/**
 * @genai-fi/nanogpt's training step in the same browser, on the page
 * scripts/bench-pages/nanogpt.html (served by Vite's dev server at `devUrl`), with the
 * closest configuration it has to the tiny model: same width, depth, heads and vocabulary;
 * its own GELU MLP (3x wide, as ours) and full multi-head attention.
 */
export async function benchNanogpt(
  browser: Browser,
  devUrl: string,
  backends: PeerRequest['backend'][],
  shapes: Shape[],
  steps: number,
): Promise<{ rows: TrainRow[]; skipped: string[] }> {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, number>;
  const rows: TrainRow[] = [];
  const skipped: string[] = [];
  for (const backend of backends)
    for (const { batch, seq } of shapes) {
      console.log(`[bench] @genai-fi/nanogpt training step, ${backend}, batch ${batch} × ${seq}`);
      // A fresh page per row: the package keeps one backend per page.
      const page = await browser.newPage();
      try {
        await page.goto(`${devUrl}scripts/bench-pages/nanogpt.html`);
        await page.waitForFunction(() => document.body.dataset.ready === 'yes', null, {
          timeout: 120_000,
        });
        const request: PeerRequest = {
          backend,
          vocab: c.vocab_size!,
          layers: c.num_hidden_layers!,
          heads: c.num_attention_heads!,
          embed: c.hidden_size!,
          mlpFactor: c.intermediate_size! / c.hidden_size!,
          batch,
          seq,
          steps,
          warmup: 2,
        };
        const out = await page.evaluate(
          (r) =>
            (
              globalThis as unknown as { nanogptBench: (r: PeerRequest) => Promise<PeerResult> }
            ).nanogptBench(r),
          request,
        );
        rows.push({
          trainer: '@genai-fi/nanogpt',
          backend,
          batch,
          seq,
          medianMs: out.medianMs,
          tokensPerSecond: out.tokensPerSecond,
        });
      } catch (error) {
        skipped.push(`${backend} ${batch}×${seq}: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        await page.close();
      }
    }
  return { rows, skipped };
}

/** The rows as a table, each of ours with its ratio to the best peer row of the same shape. */
export function trainTable(rows: TrainRow[], peaks: Partial<Record<string, number>>): string {
  const best = (trainer: TrainRow['trainer'], s: Shape) =>
    Math.max(
      0,
      ...rows
        .filter((r) => r.trainer === trainer && r.batch === s.batch && r.seq === s.seq)
        .map((r) => r.tokensPerSecond),
    );
  const lines = [
    '| trainer | backend | batch × seq | ms/step | tokens/s | vs PyTorch CPU | vs nanogpt (best) | GFLOP/s | of matmul peak |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ours = r.trainer === 'ours (tfjs)';
    const ratio = (peer: number) =>
      ours && peer > 0 ? `${(r.tokensPerSecond / peer).toFixed(2)}x` : '';
    const peak = peaks[r.backend];
    lines.push(
      `| ${r.trainer} | ${r.backend} | ${r.batch} × ${r.seq} | ${r.medianMs.toFixed(1)} | ${r.tokensPerSecond.toFixed(0)} | ${ratio(best('PyTorch CPU', r))} | ${ratio(best('@genai-fi/nanogpt', r))} | ${r.gflops?.toFixed(2) ?? ''} | ${ours && peak && r.gflops ? `${((100 * r.gflops) / peak).toFixed(0)}%` : ''} |`,
    );
  }
  return lines.join('\n');
}
