import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { writeHostHeaders } from './scripts/vite/host-headers.ts';
import { securityHeaders } from './scripts/vite/security-headers.ts';
import { serveModels } from './scripts/vite/serve-models.ts';

export default defineConfig({
  plugins: [svelte(), serveModels('models'), writeHostHeaders()],
  server: { host: '127.0.0.1', port: 5173, headers: securityHeaders },
  preview: { host: '127.0.0.1', port: 4173, headers: securityHeaders },
  // Worker-only packages must be pre-bundled up front, or the dev server finds them late
  // and reloads the page in the middle of a run.
  optimizeDeps: { entries: ['index.html', 'src/**/*.worker.ts'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: {
    format: 'es',
    // The default minifier's compression breaks tfjs's threaded WASM glue code
    // ("e is not defined"); mangling alone is safe.
    rolldownOptions: { output: { minify: { compress: false, mangle: true } } },
  },
  test: {
    projects: [
      {
        extends: true,
        // No speed limit in a unit test: vitest's 5-second default fails a correct test on a
        // slower or busier machine (the PPO test takes about 3 s on an idle 2-core one).
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One browser at a time: this machine has 2 cores and the tests measure timings.
          fileParallelism: false,
        },
      },
    ],
  },
});
