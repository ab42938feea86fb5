import { describeError } from '../domain/errors.ts';
import type { KernelCheckResult } from '../domain/kernels.ts';
import type { EngineClient } from '../workers/clients.ts';

/** The shapes the page's kernel check runs at, smallest first (see backend/kernel-check.ts). */
export const kernelCheckShapes = [
  { name: 'tiny', label: 'the tiny model' },
  { name: 'smollm2-layer', label: 'one SmolLM2-135M layer (slower)' },
] as const;

/**
 * The engine panel's kernel check: every fused kernel and its gradients on the active backend
 * against tfjs's stock ops on the CPU backend, through the engine worker.
 */
export class KernelCheck {
  #result = $state.raw<KernelCheckResult | null>(null);
  get result() {
    return this.#result;
  }
  #running = $state(false);
  get running() {
    return this.#running;
  }
  #error = $state<string | null>(null);
  get error() {
    return this.#error;
  }

  constructor(private readonly engine: EngineClient) {}

  async run(shapes: string[]): Promise<void> {
    this.#running = true;
    this.#error = null;
    try {
      this.#result = await this.engine.request({ type: 'kernelCheck', shapes, seed: 1 });
    } catch (error) {
      this.#error = describeError(error);
    } finally {
      this.#running = false;
    }
  }
}
