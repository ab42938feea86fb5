/**
 * RL-CAI's methods compared on the same data: one SL-CAI policy, one set of AI labels (and
 * one reward model when a method uses it), then each method trained from that policy and
 * evaluated on the same held-out prompts. Each method's run goes on from the shared steps'
 * outputs and checkpoints, as Continue goes on with a stored run.
 */
import type { RlMethod } from '../domain/modes.ts';
import type { Experiment } from '../experiment/experiment.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type { EmitEvent } from './events.ts';
import { runExperiment, type RunOptions, type RunResult } from './run-experiment.ts';
import { stepsOf, usesRewardModel, type StepOutputs } from './steps.ts';

export interface Comparison {
  /** The steps every method shares: SL-CAI, the labels, and the reward model if any uses it. */
  shared: RunResult;
  /** Each method's run from the shared steps, in the order asked. */
  methods: Partial<Record<RlMethod, RunResult>>;
}

/** `experiment` with RL-CAI trained by `method`. */
export function withMethod(experiment: Experiment, method: RlMethod): Experiment {
  return { ...experiment, stages: { ...experiment.stages, rl: { method } } };
}

/** The shared outputs with no method's results: what each method's run starts from. */
function startOf(o: StepOutputs): StepOutputs {
  const start: StepOutputs = { ...o, seconds: { ...o.seconds } };
  delete start.evalRl;
  delete start.meanReward;
  return start;
}

/**
 * Runs the shared steps once, then each of `methods` (distinct, at least one) from them; every
 * run's events go to `emit` as they come. Stops between steps when `signal` aborts.
 */
export async function compareMethods(
  engine: EngineClient,
  feedback: FeedbackClient,
  experiment: Experiment,
  methods: RlMethod[],
  emit: EmitEvent,
  signal: AbortSignal,
  options: Pick<RunOptions, 'hubEndpoint' | 'download'> = {},
): Promise<Comparison> {
  if (!methods.length || new Set(methods).size !== methods.length)
    throw new Error(`Compare at least one method, each once (asked: ${methods.join(', ')}).`);
  // The shared steps are those before the method's own step, with the reward model when any
  // method uses one.
  const lead = methods.find(usesRewardModel) ?? methods[0]!;
  const end = stepsOf('all', lead).findIndex((s) => s.id === lead);
  const shared = await runExperiment(
    engine,
    feedback,
    withMethod(experiment, lead),
    { end },
    emit,
    signal,
    options,
  );
  const runs: Comparison['methods'] = {};
  for (const method of methods) {
    runs[method] = await runExperiment(
      engine,
      feedback,
      withMethod(experiment, method),
      'all',
      emit,
      signal,
      {
        ...options,
        from: { outputs: startOf(shared.outputs), checkpoints: { ...shared.checkpoints } },
      },
    );
  }
  return { shared, methods: runs };
}
