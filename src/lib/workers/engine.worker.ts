/**
 * The engine worker: owns tfjs and (in later stages) every trained model. A thin table of
 * handlers over pure functions in src/lib/backend; see protocol.ts for the messages.
 */
import { describeError } from '../domain/errors.ts';
import * as tf from '@tensorflow/tfjs-core';
import { EnginePolicies } from './engine-policies.ts';
import { backendNames } from '../domain/backend.ts';
import { modelSourceOrThrow, pickedFilesId } from '../domain/model-id.ts';
import { BackendManager } from '../backend/backend-manager.ts';
import { crossCheck } from '../backend/cross-check.ts';
import { kernelCheck } from '../backend/kernel-check.ts';
import { benchConfig, benchKernels } from '../backend/kernel-bench.ts';
import { runMatmulBench } from '../backend/matmul-bench.ts';
import { benchTrainStep } from '../backend/train-bench.ts';
import { type TrainBenchRow } from '../domain/backend.ts';
import { activate, activeGpuDevice } from '../backend/tfjs-runtime.ts';
import { configureTransformersEnv } from '../feedback/transformers-env.ts';
import { chatGenerate } from '../model/chat-generate.ts';
import { PolicySession } from '../model/policy-session.ts';
import { checkModelFolder } from '../model/load.ts';
import { forwardLogits, policyInfo, scoreOptions, sftSequences } from '../model/policy-tasks.ts';
import { runSft } from '../model/sft.ts';
import { rewardScores, runPpo, trainReward } from '../rl/rl-tasks.ts';
import { loadHfTokenizer } from '../tokenizer/hf-tokenizer.ts';
import type { BackendName } from '../domain/backend.ts';
import type { EngineRequest, EngineResults } from './protocol.ts';
import { probeModel } from '../backend/model-probe.ts';
import {
  cachedHubSource,
  deleteFromCache,
  downloadHub,
  inspectHub,
  modelCache,
  pickedFilesSource,
} from './model-files-tasks.ts';
import { cancellationPoint, serveRequests, type Port } from './serve.ts';

type InspectRequest = Extract<EngineRequest, { type: 'inspectHub' }>;

const port = self as unknown as Port;
const backends = new BackendManager((report) =>
  port.postMessage({ id: 0, status: 'ready', backend: report }),
);

/** A Hub model's inspection and memory plan against the active backend's limits. */
function inspectOnBackend(request: Pick<InspectRequest, 'hub' | 'shape' | 'lora'>) {
  const gpu = activeGpuDevice()?.limits;
  const largest = gpu ? Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize) : null;
  return inspectHub(request.hub, request.shape, request.lora, backends.current.backend, largest);
}

/** The loaded policy, what is trained from it, and the reward model. */
const models = new EnginePolicies();

serveRequests<EngineRequest, EngineResults>(port, {
  init: async (request, ctx) => {
    if (request.backend !== 'auto' && !backendNames.includes(request.backend))
      throw new Error(
        `"${String(request.backend)}" is not a backend: use auto, ${backendNames.join(', ')}.`,
      );
    return backends.init(
      request.backend,
      (message) => ctx.emit({ status: 'loading', message }),
      request.kernels,
    );
  },
  setKernels: async (request) => backends.setKernels(request.kernels),
  kernelCheck: (request) =>
    backends.run(() => kernelCheck(backends.current.backend, activate, request)),
  kernelBench: async (request, ctx) => {
    const chosen = backends.current.backend;
    try {
      const rows = await benchKernels(await benchConfig(request), request.backends, request.shape, {
        activate,
        onProgress: (done, total, message) =>
          ctx.emit({ status: 'progress', done, total, message }),
        shouldStop: () => cancellationPoint(ctx.signal),
      });
      return { rows };
    } finally {
      await activate(chosen);
    }
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
    const config =
      models.loadedBase()?.config ??
      (request.model && modelSourceOrThrow(request.model) === 'local'
        ? await PolicySession.readConfig(`/models/${request.model}/`)
        : models.base().config);
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
    const lora = request.lora ?? null;
    const loaded = models.loaded(request.model, lora);
    if (request.reuse && loaded) return policyInfo(loaded);
    // Picked files are never read again: a run trains the model they loaded (as LoRA's frozen
    // base, or whole), or says what to do.
    const picked = models.loadedBase();
    if (request.model === pickedFilesId && !request.files) {
      if (picked?.id !== pickedFilesId)
        throw new Error(
          'The policy "your-files" is a checkpoint picked from disk: pick its files again under “Your own policy” (Load files), then run.',
        );
      return policyInfo(loaded ?? models.load(picked.source(), lora));
    }
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
    const base = models.load(session, lora);
    return backends.run(async () => {
      base.current(); // upload the weights now, not on the first request
      return policyInfo(base);
    });
  },
  generate: (request, ctx) =>
    backends.run(async () => {
      const result = await chatGenerate(
        models.need(request.policy),
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
    const base = models.base();
    models.set('sl', null);
    models.set('rl', null);
    const session = await backends.run(() => models.freshSl(request.seed));
    const start = performance.now();
    // The weights are read back inside the run: a device lost then retries the training.
    const result = await backends.run(() =>
      models.training(session, async () => {
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
      }),
    );
    models.set('sl', session);
    return {
      ...result,
      seconds: (performance.now() - start) / 1000,
      backend: backends.current.backend as BackendName,
      checkpoint: session.safetensors({ stage: 'sl-cai', base: base.id }),
    };
  },
  reward: async (request, ctx) => {
    const sl = models.need('sl');
    const start = performance.now();
    // The checkpoint is read back inside the run: a device lost then retries the training.
    const { model, result, checkpoint } = await backends.run(async () => {
      const trained = await trainReward(
        sl,
        models.newReward(request.seed),
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
    models.setReward(checkpoint, model);
    return { ...result, seconds: (performance.now() - start) / 1000, checkpoint };
  },
  loadCheckpoint: (request) =>
    backends.run(async () => {
      models.loadCheckpoint(request.slot, request.bytes);
      return { slot: request.slot };
    }),
  rewardScore: async (request) => ({
    scores: await backends.run(() =>
      rewardScores(models.need('sl'), models.needReward(), request.items),
    ),
  }),
  ppo: async (request, ctx) => {
    const sl = models.need('sl');
    models.needReward();
    models.set('rl', null);
    const rl = sl.copy('rl');
    const start = performance.now();
    const result = await backends.run(async () => {
      const trained = await runPpo(
        models.reference(),
        rl,
        models.needReward(),
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
    models.set('rl', rl);
    return {
      ...result,
      seconds: (performance.now() - start) / 1000,
      checkpoint: rl.safetensors({ stage: 'rl-cai', base: sl.id }),
    };
  },
  mergedPolicy: (request) =>
    backends.run(async () => ({
      bytes: await models.merged(request.checkpoint),
    })),
  score: (request) =>
    backends.run(() => scoreOptions(models.need(request.policy), request.prompt, request.options)),
  forwardLogits: (request) => backends.run(() => forwardLogits(models.base(), request.text)),
  inspectHub: (request) => inspectOnBackend(request),
  probeHub: async (request, ctx) => {
    const inspect = await inspectOnBackend(request);
    const { batch, seq } = request.probe;
    const probe = await backends.run(() =>
      probeModel(inspect.config, request.lora, batch, seq, () => cancellationPoint(ctx.signal)),
    );
    return { inspect, probe };
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
