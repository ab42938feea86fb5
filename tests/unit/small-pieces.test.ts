import { describe, expect, test } from 'vitest';
import { checkModelFolder, urlSource } from '../../src/lib/model/checkpoints/load.ts';
import { matmulGflops, median } from '../../src/lib/backend/matmul-bench.ts';
import { forwardFlops, trainFlops } from '../../src/lib/backend/train-bench.ts';
import type { ModelConfig } from '../../src/lib/model/architecture/config.ts';
import { trainTable } from '../../scripts/lib/bench-train.ts';
import { hubCatalog, hubDtype, sizeLabel } from '../../src/lib/feedback/hub-catalog.ts';
import { parseUrlOptions } from '../../src/lib/experiment/url-options.ts';
import { badgeText, badgeWhy } from '../../src/lib/ui/engine/describe.ts';
import type { BackendReport } from '../../src/lib/domain/backend.ts';

test('median and GFLOP/s', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  // 2 * 512³ flops in 10 ms = 26.8435456 GFLOP/s
  expect(matmulGflops(512, 10)).toBeCloseTo(26.8435456, 9);
});

test('?kernels= picks fused or stock kernels; an unknown value is named and the default kept', () => {
  expect(parseUrlOptions('?kernels=stock&backend=webgpu')).toEqual({
    backend: 'webgpu',
    kernels: 'stock',
    warnings: [],
  });
  expect(parseUrlOptions('?kernels=turbo')).toEqual({
    backend: 'auto',
    kernels: 'fused',
    warnings: ['Ignored ?kernels=turbo: use fused or stock. Using fused.'],
  });
});

test('?backend= is read, and an unknown value is reported and ignored', () => {
  expect(parseUrlOptions('?backend=webgpu')).toEqual({
    backend: 'webgpu',
    kernels: 'fused',
    warnings: [],
  });
  expect(parseUrlOptions('')).toEqual({ backend: 'auto', kernels: 'fused', warnings: [] });
  const bad = parseUrlOptions('?backend=<img src=x>');
  expect(bad.backend).toBe('auto');
  expect(bad.warnings[0]).toMatch(
    /^Ignored \?backend=<img src=x>: use one of auto, webgpu, wasm, cpu/,
  );
});

const report = (patch: Partial<BackendReport>): BackendReport => ({
  backend: 'wasm',
  mode: 'auto',
  reason: '',
  adapter: null,
  candidates: [],
  wasmThreads: 2,
  crossOriginIsolated: true,
  kernels: 'fused',
  ...patch,
});

test('the badge says what runs and why', () => {
  expect(badgeText(report({}))).toBe('WASM · 2 threads');
  expect(badgeWhy(report({}))).toBe('no WebGPU adapter here');
  expect(badgeWhy(report({ mode: 'forced', backend: 'cpu' }))).toBe('forced by ?backend=cpu');
  expect(badgeWhy(report({ fallbackFrom: { backend: 'webgpu', error: 'lost' } }))).toBe(
    'WebGPU failed at run time',
  );
});

test('Hub catalog: 4-bit weights per device for listed models, full precision for any other id', () => {
  expect(hubDtype('HuggingFaceTB/SmolLM2-135M-Instruct', 'webgpu')).toBe('q4f16');
  expect(hubDtype('HuggingFaceTB/SmolLM2-135M-Instruct', 'wasm')).toBe('q4');
  expect(hubDtype('someone/exported-like-tiny-cai', 'webgpu')).toBe('fp32');
  expect(sizeLabel(134)).toBe('134 MB');
  expect(sizeLabel(null)).toBe('size shown while it downloads');
  for (const m of hubCatalog) expect(m.id).toMatch(/^[\w.-]+\/[\w.-]+$/);
});

test('training FLOPs of the tiny model: every matmul, 2 per multiply-add, backward twice forward', () => {
  const config = {
    hidden_size: 128,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 64,
    intermediate_size: 384,
    num_hidden_layers: 4,
    vocab_size: 1500,
  } as ModelConfig;
  // Per layer and token at T = 128: q, o 2·128·128·2 = 65,536; k, v 2·128·64·2 = 32,768;
  // MLP 2·128·384·3 = 294,912; attention 2·128·128·2 = 65,536; sum 458,752; 4 layers
  // 1,835,008; LM head 2·128·1500 = 384,000; per token 2,219,008.
  expect(forwardFlops(config, 1, 128)).toBe(2_219_008 * 128);
  expect(trainFlops(config, 16, 128)).toBe(3 * 2_219_008 * 16 * 128);
});

test('training table: ratios against the best peer row of the same shape, share of the matmul peak', () => {
  const shape = { batch: 16, seq: 128, medianMs: 1 };
  const table = trainTable(
    [
      { trainer: 'ours (tfjs)', backend: 'wasm', ...shape, tokensPerSecond: 3000, gflops: 20 },
      { trainer: 'PyTorch CPU', backend: 'cpu', ...shape, tokensPerSecond: 6000 },
      { trainer: '@genai-fi/nanogpt', backend: 'cpu', ...shape, tokensPerSecond: 100 },
      { trainer: '@genai-fi/nanogpt', backend: 'webgl', ...shape, tokensPerSecond: 300 },
    ],
    { wasm: 80 },
  );
  expect(table.split('\n')[2]).toBe(
    '| ours (tfjs) | wasm | 16 × 128 | 1.0 | 3000 | 0.50x | 10.00x | 20.00 | 25% |',
  );
});

describe('model folders', () => {
  /** A server holding `files` (path → body); anything else is answered as `missing` says. */
  const server =
    (files: Record<string, string>, missing: 'page' | 404 | 500) =>
    async (url: string | URL | Request): Promise<Response> => {
      const body = files[String(url)];
      if (body !== undefined)
        return new Response(body, { headers: { 'Content-Type': 'application/json' } });
      if (missing === 500) return new Response('Broken', { status: 500 });
      return missing === 404
        ? new Response('Not found', { status: 404 })
        : new Response('<!doctype html><title>CAI Playground</title>', {
            headers: { 'Content-Type': 'text/html' },
          });
    };
  const folder = {
    '/models/m/config.json': '{}',
    '/models/m/tokenizer.json': '{}',
    '/models/m/tokenizer_config.json': '{}',
    '/models/m/model.safetensors': 'x',
  };
  const advice =
    'Check the model\'s name (this app ships "tiny-cai"; its model folders are served from /models/), or put the model\'s files in that folder.';

  test('a whole folder passes; what is missing or wrong is said in words', async () => {
    await expect(checkModelFolder('m', 'policy', server(folder, 404))).resolves.toBeUndefined();
    await expect(checkModelFolder('nope', 'policy', server(folder, 'page'))).rejects.toThrow(
      `The policy model "nope" could not be loaded: there is no model folder /models/nope/ (asked for its config.json, the server answered with a web page instead of the file). ${advice}`,
    );
    await expect(checkModelFolder('m', 'feedback', server(folder, 404))).rejects.toThrow(
      `The feedback model "m" could not be loaded: the folder /models/m/ has no onnx/model.onnx (the server answered HTTP 404). ${advice}`,
    );
    const broken = { ...folder, '/models/m/tokenizer_config.json': '{"tokenizer_class": ' };
    await expect(checkModelFolder('m', 'policy', server(broken, 404))).rejects.toThrow(
      /^The policy model "m" could not be loaded: \/models\/m\/tokenizer_config.json is not valid JSON \(/,
    );
  });

  test('a file answered with the app’s page is missing, not parsed; a part of it is refused', async () => {
    const source = urlSource('/models/m/', 'the folder /models/m/', server(folder, 'page'));
    expect(await source.read('model.safetensors.index.json')).toBeNull();
    expect(new TextDecoder().decode((await source.read('config.json'))!)).toBe('{}');
    await expect(source.readRange!('onnx/model.onnx', 0, 8)).rejects.toThrow(
      'Could not download /models/m/onnx/model.onnx: the server answered with a web page instead of the file.',
    );
    const failing = urlSource('/x/', 'x', server({}, 500));
    await expect(failing.read('config.json')).rejects.toThrow('the server answered HTTP 500');
  });
});
