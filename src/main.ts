import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { EngineStatus } from './lib/state/engine-status.svelte.ts';
import { ModelLab } from './lib/state/model-lab.svelte.ts';
import { parseUrlOptions } from './lib/state/url-options.ts';
import { startEngine, startFeedback } from './lib/workers/clients.ts';

const options = parseUrlOptions(location.search);
const engine = startEngine();
const feedback = startFeedback();
const status = new EngineStatus(engine, feedback);
const lab = new ModelLab(engine, feedback);

mount(App, {
  target: document.getElementById('app')!,
  props: { status, lab, warnings: options.warnings },
});
void status.start(options.backend);

// For the curious (and for scripts): the worker clients, reachable from the devtools console.
Object.assign(globalThis, { caiPlayground: { engine, feedback, status } });
