#!/usr/bin/env node
/**
 * Runs a TypeScript script that uses tfjs in Node: bundles it with esbuild first, because
 * tfjs's ES modules use directory imports that Node's own loader refuses. As Vite does for the
 * app, `?raw` imports are the file's text. Scripts never import the page's Svelte state.
 * Usage: node scripts/run-ts.mjs scripts/pretrain-tiny.ts [args...]
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

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
  plugins: [
    {
      name: 'vite-like',
      setup(b) {
        b.onResolve({ filter: /\?raw$/ }, (a) => ({
          path: resolve(dirname(a.importer), a.path.slice(0, -'?raw'.length)),
          namespace: 'raw',
        }));
        b.onLoad({ filter: /.*/, namespace: 'raw' }, async (a) => ({
          contents: await readFile(a.path, 'utf8'),
          loader: 'text',
        }));
        // Scripts stay below the page's state: a Svelte module here is a layering mistake.
        b.onResolve({ filter: /\.svelte(\.ts)?$/ }, (a) => ({
          errors: [{ text: `${a.path} is a Svelte module; scripts import plain TypeScript only` }],
        }));
      },
    },
  ],
});
const run = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
