#!/usr/bin/env node
/**
 * Runs a TypeScript script that uses tfjs in Node: bundles it with esbuild first, because
 * tfjs's ES modules use directory imports that Node's own loader refuses.
 * Usage: node scripts/run-ts.mjs scripts/pretrain-tiny.ts [args...]
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('Usage: node scripts/run-ts.mjs <script.ts> [args...]');
  process.exit(2);
}
const outDir = join('node_modules', '.cache', 'cai-scripts');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.cjs'));
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
