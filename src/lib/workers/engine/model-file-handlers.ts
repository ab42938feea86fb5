/**
 * The engine's requests about model files: loading the policy (one of the app's folders, a
 * Hub model from the browser's cache, or files the user picked), checkpoints of trained
 * stages in and out, and the Hub's inspection, memory probe, download and cache.
 */
import { activeGpuDevice } from '../../backend/tfjs-runtime.ts';
import { probeModel } from '../../backend/model-probe.ts';
import { modelSourceOrThrow, parseModelRef, pickedFilesId } from '../../domain/model-id.ts';
import { configureTransformersEnv } from '../../feedback/transformers-env.ts';
import { checkModelFolder } from '../../model/checkpoints/load.ts';
import { PolicySession } from '../../model/generation/policy-session.ts';
import { policyInfo } from '../../model/generation/policy-tasks.ts';
import type { InspectResult } from '../../model/checkpoints/inspect.ts';
import { loadHfTokenizer } from '../../tokenizer/hf-tokenizer.ts';
import {
  cachedHubSource,
  deleteFromCache,
  downloadHub,
  inspectHub,
  modelCache,
  pickedFilesSource,
} from '../model-files-tasks.ts';
import type { EngineRequest } from '../protocol.ts';
import { cancellationPoint } from '../serve.ts';
import type { EngineContext, HandlerGroup } from './engine-context.ts';

type ModelFiles =
  | 'loadPolicy'
  | 'loadCheckpoint'
  | 'mergedPolicy'
  | 'inspectHub'
  | 'probeHub'
  | 'downloadHub'
  | 'modelCache'
  | 'deleteCached';

type InspectRequest = Extract<EngineRequest, { type: 'inspectHub' }>;

export function modelFileHandlers({ backends, models }: EngineContext): HandlerGroup<ModelFiles> {
  /** A Hub model's inspection and memory plan against the active backend's limits. */
  // Kept per model, plan and backend: Download after Check (and a resumed Download) asks the
  // Hub nothing again before its parts.
  const inspections = new Map<string, InspectResult>();
  const inspectOnBackend = async (request: Pick<InspectRequest, 'hub' | 'shape' | 'lora'>) => {
    const gpu = activeGpuDevice()?.limits;
    const largest = gpu ? Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize) : null;
    const backend = backends.current.backend;
    const key = JSON.stringify([request.hub, request.shape, request.lora, backend, largest]);
    const known = inspections.get(key);
    if (known) return known;
    const result = await inspectHub(request.hub, request.shape, request.lora, backend, largest);
    inspections.set(key, result);
    return result;
  };
  return {
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
      const named = parseModelRef(request.model);
      if (
        request.hub &&
        (named?.kind !== 'hub' ||
          named.id !== request.hub.id ||
          named.revision !== request.hub.revision)
      )
        throw new Error(
          `The policy "${request.model}" does not name the Hub model it loads (${request.hub.id} at ${request.hub.revision}).`,
        );
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
    loadCheckpoint: (request) =>
      backends.run(async () => {
        models.loadCheckpoint(request.slot, request.bytes);
        return { slot: request.slot };
      }),
    mergedPolicy: (request) =>
      backends.run(async () => ({
        bytes: await models.merged(request.checkpoint),
      })),
    inspectHub: (request) => inspectOnBackend(request),
    probeHub: async (request, ctx) => {
      const inspect = await inspectOnBackend(request);
      const { batch, seq } = request.probe;
      const probe = await backends.run(() =>
        probeModel(inspect.config, request.lora, batch, seq, () => cancellationPoint(ctx.signal)),
      );
      return { inspect, probe };
    },
    downloadHub: (request, ctx) => downloadHub(request.hub, () => inspectOnBackend(request), ctx),
    modelCache: () => modelCache(),
    deleteCached: (request) => deleteFromCache(request.base),
  };
}
