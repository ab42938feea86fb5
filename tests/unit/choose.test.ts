import { describe, expect, test } from 'vitest';
import { chooseBackend, score } from '../../src/lib/backend/choose.ts';
import type { AdapterInfo, BackendName, CandidateReport } from '../../src/lib/domain/backend.ts';

function measured(
  backend: BackendName,
  matmulMs: number,
  trainStepMs: number,
  error = 1e-6,
): CandidateReport {
  return {
    backend,
    available: true,
    correct: error <= 1e-3,
    maxRelError: error,
    matmulMs,
    trainStepMs,
    probeMs: matmulMs + trainStepMs,
    verdict: 'rejected',
    reason: 'measured',
  };
}

function unavailable(backend: BackendName, reason: string): CandidateReport {
  return {
    ...measured(backend, 0, 0),
    available: false,
    correct: null,
    matmulMs: null,
    trainStepMs: null,
    reason,
  };
}

const swiftshader: AdapterInfo = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: '',
  isFallbackAdapter: true,
  features: [],
  maxBufferSize: 2 ** 30,
};
const realGpu: AdapterInfo = {
  ...swiftshader,
  vendor: 'nvidia',
  architecture: 'hopper',
  isFallbackAdapter: false,
};

describe('chooseBackend, auto', () => {
  test('a software adapter loses to WASM even when it measured faster', () => {
    const d = chooseBackend(
      [measured('webgpu', 1, 1), measured('wasm', 3, 3), measured('cpu', 30, 7)],
      swiftshader,
      'auto',
    );
    expect(d.backend).toBe('wasm');
    expect(d.ranking).toEqual(['wasm', 'cpu', 'webgpu']);
    const gpu = d.candidates.find((c) => c.backend === 'webgpu')!;
    expect(gpu.verdict).toBe('rejected');
    expect(gpu.reason).toBe(
      'software adapter (google swiftshader, isFallbackAdapter): it emulates a GPU on the CPU, so WASM is preferred (measured 2.0 ms vs 6.0 ms for wasm)',
    );
    expect(d.candidates.find((c) => c.backend === 'cpu')!.reason).toBe(
      'slower: 37 ms vs 6.0 ms for wasm',
    );
  });

  test('a real GPU that is fastest wins, and the reason names it and the others', () => {
    const d = chooseBackend(
      [measured('webgpu', 0.5, 1.5), measured('wasm', 3, 3), measured('cpu', 30, 7)],
      realGpu,
      'auto',
    );
    expect(d.backend).toBe('webgpu');
    expect(d.reason).toBe(
      'fastest correct backend on nvidia hopper: 2.0 ms for a 256² matmul and one Adam step (vs wasm 6.0 ms, cpu 37 ms)',
    );
    expect(d.candidates.map((c) => c.verdict)).toEqual(['chosen', 'rejected', 'rejected']);
  });

  test('a real GPU slower than WASM (tiny shapes, slow driver) loses on measurement', () => {
    const d = chooseBackend(
      [measured('webgpu', 9, 9), measured('wasm', 3, 3), measured('cpu', 30, 7)],
      realGpu,
      'auto',
    );
    expect(d.backend).toBe('wasm');
    expect(d.ranking).toEqual(['wasm', 'webgpu', 'cpu']);
    expect(d.candidates[0]!.reason).toBe('slower: 18 ms vs 6.0 ms for wasm');
  });

  test('a backend with wrong results is rejected however fast it is', () => {
    const d = chooseBackend(
      [measured('webgpu', 0.1, 0.1, 0.2), measured('wasm', 3, 3), measured('cpu', 30, 7)],
      realGpu,
      'auto',
    );
    expect(d.backend).toBe('wasm');
    expect(d.candidates[0]!.reason).toBe(
      'wrong results: off by 2.0e-1 (relative) from the float64 reference',
    );
    expect(d.ranking).not.toContain('webgpu');
  });

  test("no adapter: WebGPU is rejected with the browser's reason", () => {
    const d = chooseBackend(
      [
        unavailable('webgpu', 'not available: the browser offers no WebGPU adapter'),
        measured('wasm', 3, 3),
        measured('cpu', 30, 7),
      ],
      null,
      'auto',
    );
    expect(d.backend).toBe('wasm');
    expect(d.candidates[0]).toMatchObject({
      verdict: 'rejected',
      reason: 'not available: the browser offers no WebGPU adapter',
    });
  });

  test('nothing usable is an error that names each failure', () => {
    expect(() =>
      chooseBackend(
        [
          unavailable('webgpu', 'no adapter'),
          unavailable('wasm', 'failed to start: 404'),
          unavailable('cpu', 'x'),
        ],
        null,
        'auto',
      ),
    ).toThrow(
      'No tfjs backend works in this browser: webgpu: no adapter; wasm: failed to start: 404; cpu: x',
    );
  });
});

describe('chooseBackend, forced', () => {
  const notTested = (b: BackendName): CandidateReport => ({
    ...measured(b, 0, 0),
    correct: null,
    maxRelError: null,
    matmulMs: null,
    trainStepMs: null,
    verdict: 'not tested',
    reason: 'not tested: webgpu was forced by the URL',
  });

  test('a working forced backend wins even when slower; the others are not tested', () => {
    const d = chooseBackend(
      [measured('webgpu', 50, 60), notTested('wasm'), notTested('cpu')],
      swiftshader,
      'webgpu',
    );
    expect(d.backend).toBe('webgpu');
    expect(d.reason).toBe('forced by ?backend=webgpu in the URL');
    expect(d.candidates.map((c) => c.verdict)).toEqual(['chosen', 'not tested', 'not tested']);
    expect(d.ranking).toEqual(['webgpu', 'wasm', 'cpu']);
  });

  test('a forced backend that cannot start falls back to the auto choice and says why', () => {
    const d = chooseBackend(
      [
        unavailable('webgpu', 'not available: no adapter'),
        measured('wasm', 3, 3),
        measured('cpu', 30, 7),
      ],
      null,
      'webgpu',
    );
    expect(d.backend).toBe('wasm');
    expect(d.reason).toMatch(
      /^\?backend=webgpu was asked for but not available: no adapter; fastest correct backend/,
    );
  });
});

test('score adds the matmul and training-step times', () => {
  expect(score(measured('wasm', 2, 3))).toBe(5);
  expect(score({ ...measured('wasm', 2, 3), matmulMs: null })).toBe(Infinity);
});
