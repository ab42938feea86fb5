/**
 * The feedback worker: owns transformers.js (ONNX Runtime Web). It writes critiques,
 * revisions and preference labels; see protocol.ts for the messages. If the GPU device is
 * lost (before or during a request), the model is loaded again on WASM, the page is told,
 * and the request runs once more.
 */
import { InterruptableStoppingCriteria } from '@huggingface/transformers';
import { feedbackDevices, type FeedbackReport } from '../domain/backend.ts';
import { Cancelled, throwIfAborted } from '../domain/errors.ts';
import { FeedbackModel } from '../feedback/feedback-model.ts';
import { initFeedbackRuntime, ortWebGpuDevice } from '../feedback/runtime.ts';
import type { FeedbackRequest, FeedbackResults } from './protocol.ts';
import { serveRequests, type Port } from './serve.ts';

const port = self as unknown as Port;
let runtime: FeedbackReport | null = null;
let model: FeedbackModel | null = null;
/** Why the GPU device was lost, until the model has moved to WASM. */
let lost: string | null = null;
/** Resolves when the device of the current WebGPU model is lost. */
let deviceLost: Promise<void> = new Promise(() => {});

/** How long a failed WebGPU request waits to learn whether the device was lost. */
const lossGraceMs = 1000;

function needModel(): FeedbackModel {
  if (!model) throw new Error('No feedback model is loaded yet.');
  return model;
}

/** Watches the WebGPU device of a model just loaded on it. */
async function watchDevice(loaded: FeedbackModel): Promise<void> {
  if (loaded.device !== 'webgpu') return;
  const device = await ortWebGpuDevice();
  if (!device) return;
  deviceLost = device.lost.then((info) => {
    if (model === loaded) lost = `GPU device lost (${info.message || info.reason})`;
  });
}

/** Loads the current model again on WASM after its device was lost, and tells the page. */
async function fallBack(): Promise<void> {
  const error = lost!;
  const old = needModel();
  lost = null;
  model = null;
  await old.dispose().catch(() => {}); // its device is gone; nothing more to free
  const loaded = await FeedbackModel.load(old.id, 'wasm', undefined, undefined, old.endpoint);
  await loaded.warmUp();
  model = loaded;
  runtime = {
    ...runtime!,
    device: 'wasm',
    reason: `WASM: switched after WebGPU failed at run time (${error})`,
    fallbackFrom: { device: 'webgpu', error },
  };
  port.postMessage({ id: 0, status: 'feedback', report: runtime });
}

/** Runs `task` on the model; after a device loss, once more on WASM. */
async function onModel<T>(task: (m: FeedbackModel) => Promise<T>): Promise<T> {
  if (lost) await fallBack();
  const used = needModel();
  try {
    return await task(used);
  } catch (error) {
    if (error instanceof Cancelled) throw error;
    if (used.device === 'webgpu' && !lost)
      await Promise.race([deviceLost, new Promise((r) => setTimeout(r, lossGraceMs))]);
    if (!lost) throw error;
    await fallBack();
    return await task(needModel());
  }
}

serveRequests<FeedbackRequest, FeedbackResults>(port, {
  init: async (request) => {
    const device = request.device ?? 'auto';
    if (device !== 'auto' && !feedbackDevices.includes(device))
      throw new Error(`"${String(device)}" is not a feedback device: use auto, webgpu or wasm.`);
    return (runtime = await initFeedbackRuntime(device));
  },
  load: async (request, ctx) => {
    runtime ??= await initFeedbackRuntime();
    if (model?.id === request.model && model.device === runtime.device && !lost)
      return { id: model.id, device: model.device };
    let last = 0;
    const loaded = await FeedbackModel.load(
      request.model,
      runtime.device,
      (p) => {
        // A progress event at most every 100 ms, and the last one.
        const now = performance.now();
        if (now - last < 100 && p.loaded < p.total) return;
        last = now;
        ctx.emit({ status: 'progress', done: p.loaded, total: p.total, message: p.file });
      },
      ctx.signal,
      request.endpoint,
    );
    if (ctx.signal.aborted) {
      await loaded.dispose();
      throwIfAborted(ctx.signal);
    }
    ctx.emit({ status: 'loading', message: `Warming up ${request.model}…` });
    await loaded.warmUp();
    await model?.dispose();
    model = loaded;
    lost = null;
    await watchDevice(loaded);
    return { id: loaded.id, device: loaded.device };
  },
  benchGenerate: (request) =>
    onModel((m) =>
      m.generateCopies(request.prompt, request.batch, request.newTokens, request.useCache),
    ),
  score: async (request) => ({
    logprobs: await onModel((m) => m.scoreContinuations(request.prompt, request.options)),
  }),
  generate: (request, ctx) =>
    onModel(async (m) => {
      const stopper = new InterruptableStoppingCriteria();
      ctx.signal.addEventListener('abort', () => stopper.interrupt());
      const start = performance.now();
      const out = await m.generate(
        request.prompt,
        request.settings,
        (text) => ctx.emit({ status: 'token', index: 0, text }),
        stopper,
      );
      throwIfAborted(ctx.signal);
      return { ...out, seconds: (performance.now() - start) / 1000, device: m.device };
    }),
  loseDevice: async (request) => {
    const device = model?.device === 'webgpu' ? await ortWebGpuDevice() : null;
    if (device) setTimeout(() => device.destroy(), request.delayMs);
    return { hadDevice: device !== null };
  },
});
