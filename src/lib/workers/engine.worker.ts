/**
 * The engine worker: owns tfjs and (in later stages) every trained model. A thin table of
 * handlers over pure functions in src/lib/backend; see protocol.ts for the messages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendManager } from '../backend/backend-manager.ts';
import { crossCheck } from '../backend/cross-check.ts';
import { runMatmulBench } from '../backend/matmul-bench.ts';
import { activate } from '../backend/tfjs-runtime.ts';
import { configureTransformersEnv } from '../feedback/transformers-env.ts';
import { chatGenerate } from '../model/chat-generate.ts';
import { PolicySession } from '../model/policy-session.ts';
import { forwardLogits, policyInfo, scoreOptions, sftSequences } from '../model/policy-tasks.ts';
import { runSft } from '../model/sft.ts';
import { loadHfTokenizer } from '../tokenizer/hf-tokenizer.ts';
import type { BackendName, EngineRequest, EngineResults, PolicyName } from './protocol.ts';
import { cancellationPoint, serveRequests, type Port } from './serve.ts';

const port = self as unknown as Port;
const backends = new BackendManager((report) =>
  port.postMessage({ id: 0, status: 'ready', backend: report }),
);

/** The loaded policy ('base') and its SL-CAI fine-tune ('sl') once trained. */
const policies = new Map<PolicyName, PolicySession>();

function needPolicy(name: PolicyName = 'base'): PolicySession {
  const session = policies.get(name);
  if (!session)
    throw new Error(
      name === 'base'
        ? 'No policy model is loaded yet.'
        : 'There is no SL-CAI policy yet: run SFT first.',
    );
  return session;
}

serveRequests<EngineRequest, EngineResults>(port, {
  init: async (request, ctx) =>
    backends.init(request.backend, (message) => ctx.emit({ status: 'loading', message })),
  crossCheck: (request) =>
    backends.run(() =>
      crossCheck(backends.current.backend, activate, request.size, request.steps, request.seed),
    ),
  matmulBench: (request, ctx) =>
    runMatmulBench(request, backends.current.backend, {
      activate,
      onProgress: (done, total, message) => ctx.emit({ status: 'progress', done, total, message }),
      shouldStop: () => cancellationPoint(ctx.signal),
    }),
  loadPolicy: async (request, ctx) => {
    if (!/^[\w.-]+$/.test(request.model))
      throw new Error(`"${request.model}" is not a model folder name.`);
    ctx.emit({ status: 'loading', message: `Loading ${request.model}…` });
    configureTransformersEnv();
    const tokenizer = await loadHfTokenizer(request.model);
    const session = await PolicySession.load(request.model, `/models/${request.model}/`, tokenizer);
    for (const old of policies.values()) old.dispose();
    policies.clear();
    policies.set('base', session);
    return backends.run(async () => {
      session.current(); // upload the weights now, not on the first request
      return policyInfo(session);
    });
  },
  generate: (request, ctx) =>
    backends.run(async () => {
      const result = await chatGenerate(
        needPolicy(request.policy),
        request.prompts,
        request.settings,
        {
          onText: (index, text) => ctx.emit({ status: 'token', index, text }),
          checkpoint: () => cancellationPoint(ctx.signal),
        },
      );
      return { ...result, backend: backends.current.backend as BackendName };
    }),
  sft: async (request, ctx) => {
    const base = needPolicy('base');
    policies.get('sl')?.dispose();
    policies.delete('sl');
    const session = base.copy('sl');
    const start = performance.now();
    const result = await backends.run(() =>
      runSft(
        session.current(),
        sftSequences(session, request.train),
        sftSequences(session, request.heldOut),
        request.config,
        request.seed,
        {
          onMetrics: (step, values) => ctx.emit({ status: 'metrics', step, values }),
          checkpoint: () => cancellationPoint(ctx.signal),
        },
      ),
    );
    await session.syncFromModel();
    policies.set('sl', session);
    return {
      ...result,
      seconds: (performance.now() - start) / 1000,
      backend: backends.current.backend as BackendName,
      checkpoint: session.safetensors({ stage: 'sl-cai', base: base.id }),
    };
  },
  score: (request) =>
    backends.run(() => scoreOptions(needPolicy(request.policy), request.prompt, request.options)),
  forwardLogits: (request) => backends.run(() => forwardLogits(needPolicy(), request.text)),
  memory: async () => {
    const { numTensors, numBytes } = tf.memory();
    return { backend: backends.current.backend, numTensors, numBytes };
  },
  loseDevice: async (request) => ({ hadDevice: backends.loseDevice(request.delayMs) }),
});
