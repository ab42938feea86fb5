import { compareMethods } from './lib/pipeline/compare-methods.ts';
import type { RlMethod } from './lib/domain/modes.ts';
import { describeError } from './lib/domain/errors.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { EngineStatus } from './lib/state/engine-status.svelte.ts';
import { ModelLab } from './lib/state/model-lab.svelte.ts';
import { PipelineRun } from './lib/state/pipeline-run.svelte.ts';
import { parseUrlOptions } from './lib/experiment/url-options.ts';
import { KernelCheck } from './lib/state/kernel-check.svelte.ts';
import { startEngine, startFeedback } from './lib/workers/clients.ts';
import type { EmitEvent } from './lib/pipeline/events.ts';
import { RealRunCheck } from './lib/state/real-run-check.svelte.ts';
import { runExperiment, type RunOptions } from './lib/pipeline/run-experiment.ts';
import { type StageSet } from './lib/pipeline/steps.ts';
import { defaultExperiment } from './lib/experiment/experiment.ts';
import { experimentOrThrow } from './lib/experiment/experiment-check.ts';
import { ExperimentDraft } from './lib/state/experiment-draft.svelte.ts';
import { HubDownloads } from './lib/state/hub-downloads.svelte.ts';
import { OwnPolicy } from './lib/state/own-policy.svelte.ts';
import { RunStore } from './lib/runs/run-store.ts';
import { timingReference } from './lib/runs/time-estimate.ts';

const options = parseUrlOptions(location.search);
const engine = startEngine();
const feedback = startFeedback();
const status = new EngineStatus(engine, feedback);
const kernelCheck = new KernelCheck(engine);
const lab = new ModelLab(engine, feedback);

const started = status.start(options.backend, options.kernels);
// A quick measurement on this device, for the page's estimate of a run's time.
const measured = started.then(() =>
  status.measureSpeed(defaultExperiment().models.policy, timingReference.trainStep),
);
const store = new RunStore();
const draft = new ExperimentDraft(store);
const run = new PipelineRun(engine, feedback, started, draft, store);
const hub = new HubDownloads(feedback, draft, started, () => status.feedback?.device ?? null);
const own = new OwnPolicy(engine, started);
const realCheck = new RealRunCheck(engine, started);

// The experiment comes from the link, else the last session; the last run is reopened.
// Whatever fails here is said on the page, which opens anyway (with the defaults).
const restored: Promise<string[]> = Promise.allSettled([
  draft.restore(location.hash),
  run.restore(),
]).then((results) =>
  results.flatMap((r) =>
    r.status === 'rejected'
      ? [
          `Your last session could not be reopened (${describeError(r.reason)}); the page shows the defaults.`,
        ]
      : [],
  ),
);

mount(App, {
  target: document.getElementById('app')!,
  props: {
    status,
    kernelCheck,
    lab,
    run,
    draft,
    restored,
    warnings: options.warnings,
    hub,
    own,
    realCheck,
  },
});

// For the curious (and for scripts such as `npm run experiment`): the worker clients and the
// pipeline, reachable from the devtools console.
Object.assign(globalThis, {
  caiPlayground: {
    engine,
    feedback,
    status,
    draft,
    run,
    restored,
    measured,
    defaultExperiment,
    runExperiment: async (
      data: unknown,
      stages: StageSet,
      emit: EmitEvent,
      signal = new AbortController().signal,
      options: Pick<RunOptions, 'hubEndpoint' | 'download'> = {},
    ) => {
      await started;
      return runExperiment(
        engine,
        feedback,
        experimentOrThrow(data),
        stages,
        emit,
        signal,
        options,
      );
    },
    compareMethods: async (
      data: unknown,
      methods: RlMethod[],
      emit: EmitEvent,
      signal = new AbortController().signal,
      options: Pick<RunOptions, 'hubEndpoint' | 'download'> = {},
    ) => {
      await started;
      return compareMethods(
        engine,
        feedback,
        experimentOrThrow(data),
        methods,
        emit,
        signal,
        options,
      );
    },
  },
});
