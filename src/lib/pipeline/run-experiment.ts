import type { Experiment } from '../experiment/experiment.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import { isHubId, parseModelRef } from '../domain/model-id.ts';
import { checkHubEndpoint, defaultHubEndpoint, type HubRef } from '../model/checkpoints/hub.ts';
import { adapterSettings } from '../model/adapters/lora-config.ts';
import { planShape } from './run-shape.ts';
import type { EmitEvent } from './events.ts';
import type { CheckpointSlot } from '../domain/policy.ts';
import { runSteps } from './step-runs.ts';
import { slStepCount, stepsOf, type StepOutputs } from './steps.ts';
import { reportOf, type ExperimentReport } from './run-report.ts';
import type { RlMethod } from '../domain/modes.ts';
import { cancellable, workerPorts } from './worker-ports.ts';
import { formatBytes } from '../util/format-bytes.ts';

/** Which stages to run: `sl` is SL-CAI (generate, critique/revise, SFT, evaluate); `all`
 * adds RL-CAI (label, then the method's steps, evaluate). */
export type StageSet = 'sl' | 'all';

export type Checkpoints = Partial<Record<CheckpointSlot, Uint8Array>>;

/** Refuses a Hub policy that will not fit this backend, with the plan's numbers, before
 * anything is downloaded (the check reads the config and the weights' headers only). */
async function checkFits(engine: EngineClient, experiment: Experiment, hub: HubRef) {
  const lora = adapterSettings(experiment.stages.lora);
  const plan = await engine.request({
    type: 'inspectHub',
    hub,
    shape: planShape(experiment),
    lora,
  });
  if (!plan.fits)
    throw new Error(
      `${hub.id} will not fit on this backend, so nothing was downloaded. ${plan.lines.at(-1)} (The plan: ${plan.lines.at(-2)?.trim()}.)`,
    );
}

/** Downloads (or resumes) a Hub policy into the browser's cache, showing the bytes as the
 * first step's progress; Stop cancels it (what is downloaded stays cached). */
async function download(
  engine: EngineClient,
  experiment: Experiment,
  hub: HubRef,
  emit: EmitEvent,
  signal: AbortSignal,
) {
  const lora = adapterSettings(experiment.stages.lora);
  const request = { type: 'downloadHub', hub, shape: planShape(experiment), lora } as const;
  const call = engine.call(request, (e) => {
    if (e.status === 'progress')
      emit({
        type: 'progress',
        stage: 'evaluate', // the first step's
        done: e.done,
        total: e.total,
        message: `downloading ${hub.id} (${formatBytes(e.done)} of ${formatBytes(e.total)}): ${e.message}`,
      });
  });
  await cancellable(call, signal);
}

/** The engine's request that loads an experiment's policy, trained as it says (LoRA or not);
 * a Hub policy is read from the browser's cache, downloaded from `endpoint`. */
export function policyRequest(experiment: Experiment, endpoint: string) {
  const id = experiment.models.policy;
  // The revision the experiment names (main when none) is the one downloaded and loaded.
  const ref = parseModelRef(id);
  const hub: HubRef | undefined =
    ref?.kind === 'hub' ? { endpoint, id: ref.id, revision: ref.revision } : undefined;
  return {
    type: 'loadPolicy' as const,
    model: id,
    lora: adapterSettings(experiment.stages.lora),
    ...(hub && { hub }),
  };
}

/** Where a run goes: up to the end of SL-CAI or of the whole recipe, or up to step `end`. */
export type RunUntil = StageSet | { end: number };

const endOf = (until: RunUntil, method: RlMethod) =>
  until === 'sl' ? slStepCount : until === 'all' ? stepsOf('all', method).length : until.end;

export interface RunResult {
  /** Null until the run has evaluated its SL-CAI policy. */
  report: ExperimentReport | null;
  outputs: StepOutputs;
  checkpoints: Checkpoints;
}

export interface RunOptions {
  /** Where Hub ids (policy, feedback) are fetched from (default: the Hugging Face Hub). */
  hubEndpoint?: string;
  /** Download a Hub policy first (resuming what the cache has): only on the user's request
   * (the page asks first: ExperimentDraft.checked; `npm run experiment` is asked by its flags). */
  download?: boolean;
  /** A run to go on with: its outputs so far, and the checkpoints of the models it trained. */
  from?: { outputs: StepOutputs; checkpoints: Checkpoints };
  /** Called after each finished step with everything so far, e.g. to store it. */
  onStep?: (
    outputs: StepOutputs,
    checkpoints: Checkpoints,
    report: ExperimentReport | null,
  ) => Promise<void> | void;
}

/**
 * Runs an experiment (checked where it entered: see experiment/experiment-check.ts) on the app's two workers: loads its
 * models (and the checkpoints of a run it goes on with), then the steps not done yet up to
 * `until`. The UI and `npm run experiment` both call this.
 */
export async function runExperiment(
  engine: EngineClient,
  feedback: FeedbackClient,
  experiment: Experiment,
  until: RunUntil,
  emit: EmitEvent,
  signal: AbortSignal,
  options: RunOptions = {},
): Promise<RunResult> {
  const reuse = !!options.from;
  const feedbackId = experiment.models.feedback;
  const endpoint = checkHubEndpoint(options.hubEndpoint ?? defaultHubEndpoint);
  const load = policyRequest(experiment, endpoint);
  if (load.hub) await checkFits(engine, experiment, load.hub);
  if (load.hub && options.download) await download(engine, experiment, load.hub, emit, signal);
  const [policy] = await Promise.all([
    engine.request({ ...load, reuse }),
    feedback.request({
      type: 'load',
      model: feedbackId,
      ...(isHubId(feedbackId) && { endpoint }),
    }),
  ]);
  const reportOfRun = (o: StepOutputs) =>
    reportOf(o, policy.backend, experiment.models.policy, experiment.stages.rl.method);
  const checkpoints: Checkpoints = { ...options.from?.checkpoints };
  for (const slot of ['sl', 'reward', 'rl'] as const) {
    const bytes = checkpoints[slot];
    if (bytes) await engine.request({ type: 'loadCheckpoint', slot, bytes });
  }
  const outputs = await runSteps(
    { experiment, ports: workerPorts(engine, feedback, feedbackId), emit, signal },
    options.from?.outputs ?? { seconds: {} },
    endOf(until, experiment.stages.rl.method),
    async (o, checkpoint) => {
      if (checkpoint) checkpoints[checkpoint.slot] = checkpoint.bytes;
      await options.onStep?.(o, checkpoints, reportOfRun(o));
    },
  );
  return {
    report: reportOfRun(outputs),
    outputs,
    checkpoints,
  };
}
