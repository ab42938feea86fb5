/**
 * What the engine and feedback workers report about the backends they run on: the shared
 * types of backend choice, checks and benchmarks. A leaf module: it imports nothing.
 */

/** The engine's backends, in the order of preference. */
export const backendNames = ['webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];
export type BackendPreference = BackendName | 'auto';

/**
 * Which kernels the engine runs on WebGPU: `fused` (src/lib/kernels/: one WGSL dispatch where
 * tfjs's stock ops take several) or `stock` (tfjs's own ops only, the reference every fused
 * kernel is checked against). Other backends always run stock ops.
 */
export const kernelSetNames = ['fused', 'stock'] as const;
export type KernelSetName = (typeof kernelSetNames)[number];
export const defaultKernelSet: KernelSetName = 'fused';

/** What the browser tells about its WebGPU adapter (GPUAdapterInfo plus limits we use). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as SwiftShader: correct but slow. */
  isFallbackAdapter: boolean;
  features: string[];
  maxBufferSize: number;
}

/** One backend's result in the start-up micro-benchmark. */
export interface CandidateReport {
  backend: BackendName;
  /** Whether the backend could be initialised at all. */
  available: boolean;
  /** Whether its results matched the float64 reference; null when not tested. */
  correct: boolean | null;
  /** Largest relative error against the reference (matmul and training losses). */
  maxRelError: number | null;
  /** Milliseconds for one timed matmul (after a warm-up run). */
  matmulMs: number | null;
  /** Milliseconds for one timed training step of a small MLP with Adam (after a warm-up). */
  trainStepMs: number | null;
  /** Wall time of the whole probe of this backend, warm-up and shader compilation included. */
  probeMs: number | null;
  verdict: 'chosen' | 'rejected' | 'not tested';
  /** Plain words: why this backend was chosen, rejected or not tested. */
  reason: string;
}

export interface BackendReport {
  backend: BackendName;
  mode: 'auto' | 'forced';
  /** Plain words: why this backend runs the models. */
  reason: string;
  adapter: AdapterInfo | null;
  candidates: CandidateReport[];
  /** Threads of the WASM backend's pool (null when WASM was never initialised). */
  wasmThreads: number | null;
  crossOriginIsolated: boolean;
  /** The kernel set the models run (fused WGSL kernels act on WebGPU only). */
  kernels: KernelSetName;
  /** Set when the worker switched backends after a failure at run time. */
  fallbackFrom?: { backend: BackendName; error: string };
}

/** Result of running the same matmul and Adam steps on the active backend and on CPU. */
export interface CrossCheckSide {
  backend: BackendName;
  /** Row-major matmul product [size, size]. */
  matmul: number[];
  /** Loss before each Adam step. */
  losses: number[];
  /** Every weight after the last step, flattened in a fixed order. */
  weights: number[];
}

export interface CrossCheckResult {
  active: CrossCheckSide;
  cpu: CrossCheckSide;
  matmulMaxAbsDiff: number;
  lossMaxRelDiff: number;
  weightMaxAbsDiff: number;
}

export interface MatmulBenchRow {
  backend: BackendName;
  size: number;
  /** Median milliseconds of one size x size matmul, readback of one element included. */
  medianMs: number;
  gflops: number;
  reps: number;
}

export interface MatmulBenchResult {
  rows: MatmulBenchRow[];
  /** The start-up micro-benchmark re-run on each backend, as the choice saw it. */
  probes: CandidateReport[];
  /** Backends asked for that could not run, with the reason. */
  skipped: { backend: BackendName; reason: string }[];
}

export interface MemoryInfo {
  backend: BackendName;
  numTensors: number;
  numBytes: number;
}

export interface TrainBenchRow {
  backend: BackendName;
  batch: number;
  seq: number;
  /** Median milliseconds of one step (forward, backward, AdamW, loss read back). */
  medianMs: number;
  tokensPerSecond: number;
  gflops: number;
  steps: number;
}

export const feedbackDevices = ['webgpu', 'wasm'] as const;
export type FeedbackDevice = (typeof feedbackDevices)[number];

export interface FeedbackReport {
  device: FeedbackDevice;
  reason: string;
  adapter: AdapterInfo | null;
  transformersVersion: string;
  /** Where ONNX Runtime's WASM files are fetched from (must be this origin). */
  wasmUrls: string[];
  wasmThreads: number;
  crossOriginIsolated: boolean;
  /** Set once the feedback model moved to WASM after its GPU device failed at run time. */
  fallbackFrom?: { device: 'webgpu'; error: string };
}

/** A quick measured probe of a model's speed on the active backend (backend/model-probe.ts). */
export interface ModelProbe {
  /** Seconds per new token of a batch of `batch` rows (the whole batch's step). */
  decodeStepSeconds: number;
  /** Seconds per training step of `batch` sequences of `seq` tokens. */
  trainStepSeconds: number;
  batch: number;
  seq: number;
}
