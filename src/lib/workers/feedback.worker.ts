/**
 * The feedback worker: owns transformers.js (ONNX Runtime Web). It writes critiques,
 * revisions and preference labels; see protocol.ts for the messages.
 */
import { InterruptableStoppingCriteria } from '@huggingface/transformers';
import { FeedbackModel } from '../feedback/feedback-model.ts';
import { initFeedbackRuntime } from '../feedback/runtime.ts';
import type { FeedbackReport } from '../domain/backend.ts';
import type { FeedbackRequest, FeedbackResults } from './protocol.ts';
import { throwIfAborted } from '../domain/errors.ts';
import { serveRequests, type Port } from './serve.ts';

let runtime: FeedbackReport | null = null;
let model: FeedbackModel | null = null;

serveRequests<FeedbackRequest, FeedbackResults>(self as unknown as Port, {
  init: async () => (runtime = await initFeedbackRuntime()),
  load: async (request, ctx) => {
    runtime ??= await initFeedbackRuntime();
    if (model?.id === request.model) return { id: model.id, device: model.device };
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
    );
    if (ctx.signal.aborted) {
      await loaded.dispose();
      throwIfAborted(ctx.signal);
    }
    ctx.emit({ status: 'loading', message: `Warming up ${request.model}…` });
    await loaded.warmUp();
    await model?.dispose();
    model = loaded;
    return { id: loaded.id, device: loaded.device };
  },
  benchGenerate: async (request) => {
    if (!model) throw new Error('No feedback model is loaded yet.');
    return model.generateCopies(request.prompt, request.batch, request.newTokens, request.useCache);
  },
  score: async (request) => {
    if (!model) throw new Error('No feedback model is loaded yet.');
    return { logprobs: await model.scoreContinuations(request.prompt, request.options) };
  },
  generate: async (request, ctx) => {
    if (!model) throw new Error('No feedback model is loaded yet.');
    const stopper = new InterruptableStoppingCriteria();
    ctx.signal.addEventListener('abort', () => stopper.interrupt());
    const start = performance.now();
    const out = await model.generate(
      request.prompt,
      request.settings,
      (text) => ctx.emit({ status: 'token', index: 0, text }),
      stopper,
    );
    throwIfAborted(ctx.signal);
    return { ...out, seconds: (performance.now() - start) / 1000, device: model.device };
  },
});
