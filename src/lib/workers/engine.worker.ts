/**
 * The engine worker: owns tfjs and (in later stages) every trained model. A thin table of
 * handlers over pure functions in src/lib/backend; see protocol.ts for the messages.
 */
import { describeError } from '../domain/errors.ts';
import * as tf from '@tensorflow/tfjs-core';
import { backendNames } from '../domain/backend.ts';
import { modelSourceOrThrow } from '../domain/model-id.ts';
import { BackendManager } from '../backend/backend-manager.ts';
import { crossCheck } from '../backend/cross-check.ts';
import { runMatmulBench } from '../backend/matmul-bench.ts';
import { benchTrainStep } from '../backend/train-bench.ts';
import { type TrainBenchRow } from '../domain/backend.ts';
import { activate, activeGpuDevice } from '../backend/tfjs-runtime.ts';
import { configureTransformersEnv } from '../feedback/transformers-env.ts';
import { chatGenerate } from '../model/chat-generate.ts';
import { PolicySession } from '../model/policy-session.ts';
import { checkModelFolder } from '../model/load.ts';
import { forwardLogits, policyInfo, scoreOptions, sftSequences } from '../model/policy-tasks.ts';
import { ScalarHeadModel } from '../model/scalar-head.ts';
import { runSft } from '../model/sft.ts';
import { rewardScores, runPpo, trainReward } from '../rl/rl-tasks.ts';
import { loadHfTokenizer } from '../tokenizer/hf-tokenizer.ts';
import type { BackendName } from '../domain/backend.ts';
import type { PolicyName } from '../domain/policy.ts';
import type { EngineRequest, EngineResults } from './protocol.ts';
import {
  cachedHubSource,
  deleteFromCache,
  downloadHub,
  inspectHub,
  modelCache,
  pickedFilesSource,
} from './model-files-tasks.ts';
import { cancellationPoint, serveRequests, type Port } from './serve.ts';

const port = self as unknown as Port;
const backends = new BackendManager((report) =>
  port.postMessage({ id: 0, status: 'ready', backend: report }),
);

/** The loaded policy ('base') and its SL-CAI fine-tune ('sl') once trained. */
const policies = new Map<PolicyName, PolicySession>();
/**
 * The reward model, once trained (from the SL-CAI policy): kept as its checkpoint, and built
 * on the active backend from it when needed, so it survives a switch of backend (a lost GPU
 * device takes every tensor on it along).
 */
let reward: { bytes: Uint8Array; model: ScalarHeadModel | null; builtOn: string | null } | null =
  null;

function setReward(bytes: Uint8Array | null, model: ScalarHeadModel | null = null): void {
  reward?.model?.dispose();
  reward = bytes ? { bytes, model, builtOn: model && tf.getBackend() } : null;
}

function needReward(): ScalarHeadModel {
  if (!reward) throw new Error('There is no reward model yet: train it first.');
  if (!reward.model || reward.builtOn !== tf.getBackend()) {
    reward.model?.dispose();
    reward.model = ScalarHeadModel.fromSafetensors(needPolicy('base').config, reward.bytes);
    reward.builtOn = tf.getBackend();
  }
  return reward.model;
}

/** Replaces a named policy, disposing the old one (and, for a new SL-CAI, what came of it). */
function setPolicy(name: PolicyName, session: PolicySession | null): void {
  policies.get(name)?.dispose();
  policies.delete(name);
  if (session) policies.set(name, session);
}

function needPolicy(name: PolicyName = 'base'): PolicySession {
  const session = policies.get(name);
  if (!session)
    throw new Error(
      name === 'base'
        ? 'No policy model is loaded yet.'
        : name === 'sl'
          ? 'There is no SL-CAI policy yet: run SL-CAI first.'
          : 'There is no RL-CAI policy yet: run the whole recipe first.',
    );
  return session;
}

serveRequests<EngineRequest, EngineResults>(port, {
  init: async (request, ctx) => {
    if (request.backend !== 'auto' && !backendNames.includes(request.backend))
      throw new Error(
        `"${String(request.backend)}" is not a backend: use auto, ${backendNames.join(', ')}.`,
      );
    return backends.init(request.backend, (message) => ctx.emit({ status: 'loading', message }));
  },
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
  trainBench: async (request, ctx) => {
    const loaded = policies.get('base');
    const config =
      loaded?.config ??
      (request.model && modelSourceOrThrow(request.model) === 'local'
        ? await PolicySession.readConfig(`/models/${request.model}/`)
        : needPolicy('base').config);
    const chosen = backends.current.backend as BackendName;
    const rows: TrainBenchRow[] = [];
    const skipped: { backend: BackendName; reason: string }[] = [];
    const total = request.backends.length * request.shapes.length;
    try {
      for (const backend of request.backends) {
        try {
          await activate(backend);
        } catch (error) {
          skipped.push({ backend, reason: describeError(error) });
          continue;
        }
        for (const { batch, seq } of request.shapes) {
          ctx.emit({
            status: 'progress',
            done: rows.length,
            total,
            message: `training step, ${backend}, batch ${batch} × ${seq} tokens`,
          });
          rows.push(
            await benchTrainStep(backend, config, batch, seq, request.steps, request.warmup, () =>
              cancellationPoint(ctx.signal),
            ),
          );
        }
      }
    } finally {
      await activate(chosen);
    }
    return { rows, skipped };
  },
  loadPolicy: async (request, ctx) => {
    const outside = request.hub ?? request.files;
    if (!outside && modelSourceOrThrow(request.model) !== 'local')
      throw new Error(`The policy "${request.model}" must be a model folder of this app.`);
    const loaded = policies.get('base');
    if (request.reuse && loaded?.id === request.model) return policyInfo(loaded);
    ctx.emit({ status: 'loading', message: `Loading ${request.model}…` });
    let session: PolicySession;
    if (request.hub)
      session = await PolicySession.fromSource(request.model, await cachedHubSource(request.hub));
    else if (request.files)
      session = await PolicySession.fromSource(request.model, pickedFilesSource(request.files));
    else {
      await checkModelFolder(request.model, 'policy');
      configureTransformersEnv();
      const tokenizer = await loadHfTokenizer(request.model);
      session = await PolicySession.load(request.model, `/models/${request.model}/`, tokenizer);
    }
    for (const old of policies.values()) old.dispose();
    policies.clear();
    setReward(null);
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
    setPolicy('sl', null);
    setPolicy('rl', null);
    const session = base.copy('sl');
    const start = performance.now();
    // The weights are read back inside the run: a device lost then retries the training.
    const result = await backends.run(async () => {
      const trained = await runSft(
        session.current(),
        sftSequences(session, request.train),
        sftSequences(session, request.heldOut),
        request.config,
        request.seed,
        {
          onEvent: (event) => ctx.emit({ status: 'train', event }),
          checkpoint: () => cancellationPoint(ctx.signal),
        },
      );
      await session.syncFromModel();
      return trained;
    });
    setPolicy('sl', session);
    return {
      ...result,
      seconds: (performance.now() - start) / 1000,
      backend: backends.current.backend as BackendName,
      checkpoint: session.safetensors({ stage: 'sl-cai', base: base.id }),
    };
  },
  reward: async (request, ctx) => {
    const sl = needPolicy('sl');
    const start = performance.now();
    // The checkpoint is read back inside the run: a device lost then retries the training.
    const { model, result, checkpoint } = await backends.run(async () => {
      const trained = await trainReward(
        sl,
        request.train,
        request.heldOut,
        request.config,
        request.seed,
        {
          onEvent: (event) => ctx.emit({ status: 'train', event }),
          checkpoint: () => cancellationPoint(ctx.signal),
        },
      );
      return {
        ...trained,
        checkpoint: await trained.model.safetensors({ stage: 'reward', base: sl.id }),
      };
    });
    setReward(checkpoint, model);
    return { ...result, seconds: (performance.now() - start) / 1000, checkpoint };
  },
  loadCheckpoint: (request) =>
    backends.run(async () => {
      const base = needPolicy('base');
      if (request.slot === 'reward') {
        const model = ScalarHeadModel.fromSafetensors(base.config, request.bytes);
        setReward(request.bytes, model);
      } else setPolicy(request.slot, base.withCheckpoint(request.slot, request.bytes));
      return { slot: request.slot };
    }),
  rewardScore: async (request) => ({
    scores: await backends.run(() => rewardScores(needPolicy('sl'), needReward(), request.items)),
  }),
  ppo: async (request, ctx) => {
    const sl = needPolicy('sl');
    needReward();
    setPolicy('rl', null);
    const rl = sl.copy('rl');
    const start = performance.now();
    const result = await backends.run(async () => {
      const trained = await runPpo(
        sl,
        rl,
        needReward(),
        request.prompts,
        request.config,
        request.seed,
        {
          onEvent: (event) => ctx.emit({ status: 'train', event }),
          checkpoint: () => cancellationPoint(ctx.signal),
        },
      );
      await rl.syncFromModel();
      return trained;
    });
    setPolicy('rl', rl);
    return {
      ...result,
      seconds: (performance.now() - start) / 1000,
      checkpoint: rl.safetensors({ stage: 'rl-cai', base: sl.id }),
    };
  },
  score: (request) =>
    backends.run(() => scoreOptions(needPolicy(request.policy), request.prompt, request.options)),
  forwardLogits: (request) => backends.run(() => forwardLogits(needPolicy(), request.text)),
  inspectHub: (request) => {
    const gpu = activeGpuDevice()?.limits;
    const largest = gpu ? Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize) : null;
    return inspectHub(request.hub, request.shape, request.lora, backends.current.backend, largest);
  },
  downloadHub: (request, ctx) => downloadHub(request.hub, ctx),
  modelCache: () => modelCache(),
  deleteCached: (request) => deleteFromCache(request.base),
  memory: async () => {
    const { numTensors, numBytes } = tf.memory();
    return { backend: backends.current.backend, numTensors, numBytes };
  },
  loseDevice: async (request) => ({ hadDevice: backends.loseDevice(request.delayMs) }),
});
