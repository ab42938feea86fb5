import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { EngineStatus } from './lib/state/engine-status.svelte.ts';
import { ModelLab } from './lib/state/model-lab.svelte.ts';
import { PipelineRun } from './lib/state/pipeline-run.svelte.ts';
import { parseUrlOptions } from './lib/state/url-options.ts';
import { startEngine, startFeedback } from './lib/workers/clients.ts';
import type { EmitEvent } from './lib/pipeline/events.ts';
import { runExperiment, type StageSet } from './lib/pipeline/run-experiment.ts';
import { defaultExperiment } from './lib/state/experiment.ts';

const options = parseUrlOptions(location.search);
const engine = startEngine();
const feedback = startFeedback();
const status = new EngineStatus(engine, feedback);
const lab = new ModelLab(engine, feedback);

const started = status.start(options.backend);
const run = new PipelineRun(engine, feedback, started);

mount(App, {
  target: document.getElementById('app')!,
  props: { status, lab, run, warnings: options.warnings },
});

// For the curious (and for scripts such as `npm run experiment`): the worker clients and the
// pipeline, reachable from the devtools console.
Object.assign(globalThis, {
  caiPlayground: {
    engine,
    feedback,
    status,
    defaultExperiment,
    runExperiment: async (
      data: unknown,
      stages: StageSet,
      emit: EmitEvent,
      signal = new AbortController().signal,
    ) => {
      await started;
      return runExperiment(engine, feedback, data, stages, emit, signal);
    },
  },
});
