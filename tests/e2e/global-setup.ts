import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { writeRandomCheckpoint } from '../../scripts/lib/random-checkpoint.ts';
import { buildApp, serveVite } from '../../scripts/lib/serve.ts';
import { startStandInHub } from '../../scripts/lib/stand-in-hub.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** The stand-in Hub on 127.0.0.1 (the page's CSP allows it, as HF_ENDPOINT). */
    hubUrl: string;
  }
}

/**
 * Builds the app once and serves it with the production headers for every browser test,
 * beside a stand-in Hub holding a random-weight Qwen3 checkpoint with Qwen3's real tokenizer
 * (made here, not committed), as "test-org/tiny-qwen3", and the shipped model's folder (with
 * its ONNX export) as "test-org/tiny-cai-onnx".
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'cai-hub-'));
  writeRandomCheckpoint({
    shape: 'tiny-qwen3',
    out: join(dir, 'tiny-qwen3'),
    dtype: 'BF16',
    shards: 2,
    tokenizer: 'qwen3',
    seed: 1,
  });
  const hub = await startStandInHub({
    'test-org/tiny-qwen3': join(dir, 'tiny-qwen3'),
    // The shipped model's ONNX export as a feedback model from "elsewhere" (a Hub id).
    'test-org/tiny-cai-onnx': resolve('models/tiny-cai'),
  });
  await buildApp();
  process.env.HF_ENDPOINT = hub.url; // the preview server's CSP lets the page reach it
  const server = await serveVite();
  delete process.env.HF_ENDPOINT;
  project.provide('baseUrl', server.url);
  project.provide('hubUrl', hub.url);
  return async () => {
    await server.stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
