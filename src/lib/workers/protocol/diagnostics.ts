import type {
  BackendName,
  BackendPreference,
  BackendReport,
  CrossCheckResult,
  KernelSetName,
  MatmulBenchResult,
  MemoryInfo,
  TrainBenchRow,
} from '../../domain/backend.ts';
import type { KernelBenchRow, KernelBenchShape, KernelCheckResult } from '../../domain/kernels.ts';
import type { ModelConfig } from '../../model/architecture/config.ts';

/**
 * The engine's diagnostics: backend set-up and the kernel switch, checks against reference ops,
 * benches, memory, and a simulated device loss (workers/engine/diagnostics-handlers.ts).
 */

export type DiagnosticsRequest =
  | { type: 'init'; backend: BackendPreference; kernels?: KernelSetName }
  /** Switches between the fused WGSL kernels and tfjs's stock ops (WebGPU; others run stock). */
  | { type: 'setKernels'; kernels: KernelSetName }
  /** Every fused kernel and its gradients on the active backend against stock ops on CPU, at
   * the named shapes ("tiny", "smollm2-layer"). */
  | { type: 'kernelCheck'; shapes: string[]; seed: number }
  /** Dispatches and time of a training step and a cached decode step, per backend and kernel
   * set, with fresh weights of the model folder `model`'s architecture or of `config`. */
  | ({ type: 'kernelBench'; backends: BackendName[]; shape: KernelBenchShape } & (
      { model: string } | { config: ModelConfig }
    ))
  | { type: 'crossCheck'; size: number; steps: number; seed: number }
  | { type: 'matmulBench'; sizes: number[]; reps: number; backends: BackendName[] }
  /** Times training steps of the loaded policy's architecture (fresh weights) per backend;
   * before any policy is loaded, the architecture of the model folder `model`. */
  | {
      type: 'trainBench';
      model?: string;
      backends: BackendName[];
      shapes: { batch: number; seq: number }[];
      steps: number;
      warmup: number;
    }
  | { type: 'memory' }
  /** Destroys the WebGPU device after `delayMs` (0: now), as a driver reset would. */
  | { type: 'loseDevice'; delayMs: number };

export interface DiagnosticsResults {
  init: BackendReport;
  setKernels: BackendReport;
  kernelCheck: KernelCheckResult;
  kernelBench: { rows: KernelBenchRow[] };
  crossCheck: CrossCheckResult;
  matmulBench: MatmulBenchResult;
  trainBench: { rows: TrainBenchRow[]; skipped: { backend: BackendName; reason: string }[] };
  memory: MemoryInfo;
  /** Whether there was an active WebGPU device to destroy. */
  loseDevice: { hadDevice: boolean };
}
