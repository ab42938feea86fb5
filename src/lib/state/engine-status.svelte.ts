import { describeError } from '../domain/errors.ts';
import type { KernelSetName } from '../domain/backend.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type {
  BackendPreference,
  BackendReport,
  CrossCheckResult,
  FeedbackReport,
} from '../domain/backend.ts';

export type EnginePhase = 'starting' | 'ready' | 'failed';

/** Tolerances the CPU cross-check is judged by (float32 on both sides). */
export const crossCheckTolerance = { matmulAbs: 1e-3, lossRel: 1e-4, weightAbs: 1e-4 };

export function crossCheckPasses(r: CrossCheckResult): boolean {
  return (
    r.matmulMaxAbsDiff <= crossCheckTolerance.matmulAbs &&
    r.lossMaxRelDiff <= crossCheckTolerance.lossRel &&
    r.weightMaxAbsDiff <= crossCheckTolerance.weightAbs
  );
}

/**
 * What the page knows about its two workers: the engine's backend (with the reasons), the
 * feedback runtime, and the optional check against the CPU backend. The UI reads it; only
 * this class talks to the worker clients.
 */
export class EngineStatus {
  #phase = $state<EnginePhase>('starting');
  get phase() {
    return this.#phase;
  }
  #message = $state('Starting the engine…');
  get message() {
    return this.#message;
  }
  #error = $state<string | null>(null);
  get error() {
    return this.#error;
  }
  #report = $state.raw<BackendReport | null>(null);
  get report() {
    return this.#report;
  }
  #feedback = $state.raw<FeedbackReport | null>(null);
  get feedback() {
    return this.#feedback;
  }
  #feedbackError = $state<string | null>(null);
  get feedbackError() {
    return this.#feedbackError;
  }
  #check = $state.raw<CrossCheckResult | null>(null);
  get check() {
    return this.#check;
  }
  #checking = $state(false);
  get checking() {
    return this.#checking;
  }
  #checkError = $state<string | null>(null);
  get checkError() {
    return this.#checkError;
  }
  /** Median ms of one training step of the policy on the chosen backend, measured once after
   * start-up for the run-time estimate (null until then, or if it could not be measured). */
  #stepMs = $state<number | null>(null);
  get stepMs() {
    return this.#stepMs;
  }

  constructor(
    private readonly engine: EngineClient,
    private readonly feedbackClient: FeedbackClient,
  ) {
    engine.onNotice((event) => {
      if (event.status === 'ready') this.#report = event.backend;
    });
    feedbackClient.onNotice((event) => {
      if (event.status === 'feedback') this.#feedback = event.report;
    });
  }

  async start(preference: BackendPreference, kernels: KernelSetName): Promise<void> {
    const engineReady = this.engine
      .request({ type: 'init', backend: preference, kernels }, (event) => {
        if (event.status === 'loading') this.#message = event.message;
      })
      .then((report) => {
        this.#report = report;
        this.#phase = 'ready';
      })
      .catch((error: unknown) => {
        this.#phase = 'failed';
        this.#error = describeError(error);
      });
    const feedbackReady = this.feedbackClient
      .request({ type: 'init' })
      .then((report) => (this.#feedback = report))
      .catch((error: unknown) => {
        this.#feedbackError = describeError(error);
      });
    await Promise.all([engineReady, feedbackReady]);
  }

  /** Times a few training steps of the policy `model` at `shape` on the chosen backend (a second or
   * so in the engine worker), for the run-time estimate. A failure leaves no estimate. */
  async measureSpeed(model: string, shape: { batch: number; seq: number }): Promise<void> {
    const backend = this.report?.backend;
    if (this.phase !== 'ready' || !backend) return;
    try {
      const bench = await this.engine.request({
        type: 'trainBench',
        model,
        backends: [backend],
        shapes: [shape],
        steps: 5,
        warmup: 1,
      });
      this.#stepMs = bench.rows[0]?.medianMs ?? null;
    } catch (error) {
      console.warn(`The run-time estimate could not measure this device: ${describeError(error)}`);
    }
  }

  /** Switches the engine between the fused WGSL kernels and tfjs's stock ops. */
  async setKernels(kernels: KernelSetName): Promise<void> {
    this.#report = await this.engine.request({ type: 'setKernels', kernels });
  }

  /** Runs a seeded matmul and three Adam steps on the active backend and on CPU. */
  async crossCheck(): Promise<void> {
    this.#checking = true;
    this.#checkError = null;
    try {
      this.#check = await this.engine.request({ type: 'crossCheck', size: 64, steps: 3, seed: 1 });
    } catch (error) {
      this.#checkError = describeError(error);
    } finally {
      this.#checking = false;
    }
  }
}
