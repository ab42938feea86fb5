/**
 * "Before you start" for an experiment whose policy is a Hub model: on the user's click, the
 * engine reads the policy's config and weight headers (a few KB), plans its memory on this
 * backend, and probes its architecture's speed here; this turns that into the download
 * size, the memory plan, and the run's time, or a refusal with the numbers. No model logic.
 */
import { describeError } from '../domain/errors.ts';
import { isHubId } from '../domain/model-id.ts';
import { hubCatalog } from '../feedback/hub-catalog.ts';
import { policyRequest } from '../pipeline/run-experiment.ts';
import { planShape } from '../pipeline/run-shape.ts';
import type { EngineClient } from '../workers/clients.ts';
import type { Experiment } from '../experiment/experiment.ts';
import { realRunSeconds, type RealEstimate } from '../runs/real-time-estimate.ts';

export interface RealRunReport {
  policy: string;
  /** The inspection and memory plan, in lines. */
  lines: string[];
  fits: boolean;
  /** Bytes to download: the policy's weights, and the feedback model's (null: not known). */
  download: { policy: number; feedback: number | null };
  estimate: RealEstimate;
}

export class RealRunCheck {
  #busy = $state(false);
  get busy() {
    return this.#busy;
  }
  #error = $state<string | null>(null);
  get error() {
    return this.#error;
  }
  #report = $state.raw<RealRunReport | null>(null);
  get report() {
    return this.#report;
  }

  constructor(
    private readonly engine: EngineClient,
    private readonly ready: Promise<unknown>,
  ) {}

  async check(edited: Experiment, endpoint: string, backend: string): Promise<void> {
    // A plain copy: the editor's experiment is reactive state, which a worker message cannot carry.
    const x = $state.snapshot(edited) as Experiment;
    this.#busy = true;
    this.#error = null;
    try {
      await this.ready;
      const shape = planShape(x);
      // The same Hub reference and training settings a run of `x` loads its policy with.
      const { hub, lora } = policyRequest(x, endpoint);
      if (!hub) throw new Error(`The policy "${x.models.policy}" is not a Hub model.`);
      const { inspect, probe } = await this.engine.request({
        type: 'probeHub',
        hub,
        shape,
        lora,
        probe: {
          batch: Math.min(shape.batch, 16),
          seq: Math.min(256, shape.promptTokens + shape.answerTokens),
        },
      });
      const feedback = x.models.feedback;
      const known = hubCatalog.find((m) => m.id === feedback);
      const device = backend === 'webgpu' ? 'webgpu' : 'wasm';
      const megabytes = known?.files[device].megabytes ?? null;
      this.#report = {
        policy: x.models.policy,
        lines: inspect.lines,
        fits: inspect.fits,
        download: {
          policy: inspect.storedBytes,
          feedback: isHubId(feedback) ? megabytes && megabytes * 1e6 : 0,
        },
        estimate: realRunSeconds(x, probe, known ? known.parameters / inspect.parameters : null),
      };
    } catch (error) {
      this.#error = describeError(error);
      this.#report = null;
    } finally {
      this.#busy = false;
    }
  }
}
