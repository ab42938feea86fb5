import {
  backendNames,
  type AdapterInfo,
  type BackendName,
  type BackendPreference,
  type BackendReport,
  type CandidateReport,
} from '../domain/backend.ts';
import { chooseBackend } from './choose.ts';
import { probeBackend } from './probe.ts';
import { findGpu, type GpuHandle } from './gpu-adapter.ts';
import { activate, activeGpuDevice, forget, registerWebGpu, wasmThreads } from './tfjs-runtime.ts';
import type { KernelSetName } from '../domain/backend.ts';
import { kernelSet, setKernelSet } from '../kernels/kernel-set.ts';

const allBackends: readonly BackendName[] = backendNames;

/** How long a failed WebGPU task waits to learn whether the device was lost (a busy software
 * adapter settles the loss seconds after the failed readback). */
const lossGraceMs = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function notTested(backend: BackendName, reason: string, available = true): CandidateReport {
  return {
    backend,
    available,
    correct: null,
    maxRelError: null,
    matmulMs: null,
    trainStepMs: null,
    probeMs: null,
    verdict: available ? 'not tested' : 'rejected',
    reason,
  };
}

/**
 * Chooses the engine worker's tfjs backend, keeps the fallback order, and switches to the
 * next backend when the active one fails at run time (a lost GPU device, say), telling the
 * page through `notify`.
 */
export class BackendManager {
  private report: BackendReport | null = null;
  private ranking: BackendName[] = [];
  private adapter: AdapterInfo | null = null;
  /** Why the GPU device was lost, once it has been. */
  private lostReason: string | null = null;
  /** Rejects when the GPU device is lost. */
  private deviceLost: Promise<never> = new Promise<never>(() => {});
  private busy = false;
  /** A switch to the next backend started while no task was running. */
  private switching: Promise<void> | null = null;

  constructor(private readonly notify: (report: BackendReport) => void) {}

  get current(): BackendReport {
    if (!this.report) throw new Error('The engine has not been initialised.');
    return this.report;
  }

  /** Probes the candidates (or the forced one), picks one and activates it. */
  async init(
    preference: BackendPreference,
    onStep: (message: string) => void,
    kernels?: KernelSetName,
  ): Promise<BackendReport> {
    if (kernels) setKernelSet(kernels);
    const gpu = await findGpu();
    if (typeof gpu !== 'string') this.useGpu(gpu);
    else forget('webgpu');
    this.adapter = typeof gpu === 'string' ? null : gpu.info;

    const measured = new Map<BackendName, CandidateReport>();
    const probe = async (name: BackendName) => {
      if (name === 'webgpu' && typeof gpu === 'string') {
        measured.set(name, notTested(name, `not available: ${gpu}`, false));
        return;
      }
      onStep(`Measuring ${name}…`);
      measured.set(name, await probeBackend(name, activate));
    };
    const forced = preference === 'auto' ? null : preference;
    if (forced) await probe(forced);
    const forcedWorks = forced && measured.get(forced)?.correct === true;
    for (const name of allBackends) {
      if (measured.has(name)) continue;
      if (forcedWorks)
        measured.set(name, notTested(name, `not tested: ${forced} was forced by the URL`));
      else await probe(name);
    }

    const decision = chooseBackend(
      allBackends.map((b) => measured.get(b)!),
      this.adapter,
      preference,
    );
    await activate(decision.backend);
    this.ranking = decision.ranking;
    this.report = {
      backend: decision.backend,
      mode: forced ? 'forced' : 'auto',
      reason: decision.reason,
      adapter: this.adapter,
      candidates: decision.candidates,
      wasmThreads: wasmThreads(),
      crossOriginIsolated: globalThis.crossOriginIsolated,
      kernels: kernelSet(),
    };
    return this.report;
  }

  /** Chooses fused or stock kernels for every later request (the engine panel's setting). */
  setKernels(kernels: KernelSetName): BackendReport {
    setKernelSet(kernels);
    this.report = { ...this.current, kernels };
    return this.report;
  }

  /**
   * Runs `task` on the active backend. If the backend fails (its GPU device is lost before
   * or during the task), switches to the next backend in the ranking and runs it once more.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.switching) await this.switching;
    if (this.lostReason) await this.fallback(this.lostReason);
    this.busy = true;
    try {
      // Not raced against the loss: a task still running on its own would share tfjs's
      // global backend with the retry. Readbacks on a destroyed device reject promptly.
      return await task();
    } catch (error) {
      // A failed readback can come a moment before the device's `lost` promise settles.
      if (this.current.backend === 'webgpu' && !this.lostReason)
        await Promise.race([this.deviceLost.catch(() => {}), sleep(lossGraceMs)]);
      if (!this.lostReason) throw error;
      await this.fallback(this.lostReason);
      return await task();
    } finally {
      this.busy = false;
    }
  }

  /**
   * Destroys the active WebGPU device after `delayMs`, as a driver reset would, so the
   * fallback path can be seen working (tests, and curious users from the console).
   */
  loseDevice(delayMs: number): boolean {
    const device = activeGpuDevice();
    if (device) setTimeout(() => device.destroy(), delayMs);
    return device !== null;
  }

  private useGpu(gpu: GpuHandle): void {
    let rejectLost: (error: Error) => void = () => {};
    this.deviceLost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.deviceLost.catch(() => {}); // observed through run(), never an unhandled rejection
    registerWebGpu(gpu, (reason) => {
      if (this.report?.backend !== 'webgpu' || this.lostReason) return;
      this.lostReason = `GPU device lost (${reason})`;
      rejectLost(new Error(this.lostReason));
      if (!this.busy)
        this.switching = this.fallback(this.lostReason)
          .catch(() => {}) // the next run() retries and reports the failure
          .finally(() => (this.switching = null));
    });
  }

  private async fallback(error: string): Promise<void> {
    const from = this.current.backend;
    this.lostReason = null;
    forget(from);
    this.ranking = this.ranking.filter((b) => b !== from);
    for (const next of this.ranking) {
      try {
        await activate(next);
      } catch {
        continue;
      }
      this.report = {
        ...this.current,
        backend: next,
        reason: `switched to ${next} after ${from} failed at run time: ${error}`,
        candidates: this.current.candidates.map((c) =>
          c.backend === from
            ? { ...c, verdict: 'rejected', reason: `failed at run time: ${error}` }
            : c.backend === next
              ? { ...c, verdict: 'chosen', reason: `fallback after ${from} failed` }
              : c,
        ),
        wasmThreads: wasmThreads(),
        fallbackFrom: { backend: from, error },
      };
      this.notify(this.report);
      return;
    }
    throw new Error(`${from} failed (${error}) and no other backend could start.`);
  }
}
