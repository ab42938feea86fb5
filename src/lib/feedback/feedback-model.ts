import {
  AutoModelForCausalLM,
  AutoTokenizer,
  InterruptableStoppingCriteria,
  random,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  Tensor,
} from '@huggingface/transformers';
import type { FeedbackDevice } from '../domain/backend.ts';
import type { GenerateSettings } from '../domain/policy.ts';
import { hubDtype } from './hub-catalog.ts';
import { describeError } from '../domain/errors.ts';
import { modelSourceOrThrow, parseModelRef } from '../domain/model-id.ts';
import { checkModelFolder } from '../model/checkpoints/load.ts';
import { useModelSource } from './transformers-env.ts';
import { int64Tensor, logitsRow, logSoftmaxAt } from './onnx-tensors.ts';

/** Bytes of a model's files loaded so far, and their total (files found so far). */
export interface LoadProgress {
  loaded: number;
  total: number;
  file: string;
}

/**
 * The feedback model: an ONNX causal LM run by transformers.js. Offline it is the shipped
 * model's ONNX export under /models/<id>/onnx/; online the same code loads a Hub model id the
 * user chose. Generation streams text and can be interrupted.
 */
export class FeedbackModel {
  private constructor(
    readonly id: string,
    readonly device: FeedbackDevice,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
    /** The Hub endpoint a Hub model came from. */
    readonly endpoint?: string,
  ) {}

  /**
   * Loads a model folder of this app's /models/ (a plain name such as "tiny-cai"), or a
   * Hugging Face Hub id ("owner/name", or "owner/name@revision": that revision is the one
   * downloaded), which downloads from the Hub: only ever on a user's
   * explicit request. `onProgress` gets the bytes loaded; `signal` stops a download.
   */
  static async load(
    id: string,
    device: FeedbackDevice,
    onProgress?: (p: LoadProgress) => void,
    signal?: AbortSignal,
    endpoint?: string,
  ): Promise<FeedbackModel> {
    const source = modelSourceOrThrow(id);
    useModelSource(source, endpoint);
    const ref = parseModelRef(id);
    const name = ref?.kind === 'hub' ? ref.id : id;
    const revision = ref?.kind === 'hub' ? ref.revision : 'main';
    // Per file: bytes loaded and total, summed over every file of the model.
    const files: Record<string, { loaded: number; total: number }> = {};
    const progress_callback = (p: {
      status: string;
      file?: string;
      loaded?: number;
      total?: number;
    }) => {
      // Thrown here, inside transformers.js's read loop, a cancellation stops the download.
      signal?.throwIfAborted();
      if (p.status !== 'progress' || !p.file || !p.total) return;
      files[p.file] = { loaded: p.loaded ?? 0, total: p.total };
      const all = Object.values(files);
      onProgress?.({
        loaded: all.reduce((a, f) => a + f.loaded, 0),
        total: all.reduce((a, f) => a + f.total, 0),
        file: p.file,
      });
    };
    if (source === 'local') await checkModelFolder(id, 'feedback');
    const tokenizer = await AutoTokenizer.from_pretrained(name, { revision, progress_callback });
    let model: PreTrainedModel;
    try {
      model = await AutoModelForCausalLM.from_pretrained(name, {
        revision,
        dtype: source === 'hub' ? hubDtype(name, device) : 'fp32',
        device,
        progress_callback,
      });
    } catch (error) {
      throw onnxLoadError(id, source, error);
    }
    return new FeedbackModel(id, device, tokenizer, model, endpoint);
  }

  /** Tokens the model can attend to (its positions), from its config; null when it says none. */
  get contextLength(): number | null {
    const config = this.model.config as unknown as Record<string, unknown>;
    for (const key of ['max_position_embeddings', 'n_positions', 'n_ctx']) {
      const n = config[key];
      if (typeof n === 'number' && n > 0) return n;
    }
    return null;
  }

  /** Refuses a request longer than the model's context, in words (ONNX Runtime would fail
   * with an index error deep in a kernel). */
  private checkLength(promptTokens: number, more: number, what: string): void {
    const context = this.contextLength;
    if (context === null || promptTokens + more <= context) return;
    throw new Error(
      `The prompt is ${promptTokens} tokens and ${what} ${more} more, past the feedback model's context of ${context} tokens (${this.id}). Shorten the prompt, the principles or the template, lower the maximum new tokens, or choose a feedback model with a longer context.`,
    );
  }

  private chatIds(userMessage: string) {
    const text = this.tokenizer.apply_chat_template([{ role: 'user', content: userMessage }], {
      tokenize: false,
      add_generation_prompt: true,
    }) as string;
    return this.tokenizer(text, { add_special_tokens: false });
  }

  /** Answers one user message; `onText` receives each new piece of text. */
  async generate(
    userMessage: string,
    settings: GenerateSettings,
    onText: (delta: string) => void,
    stopper: InterruptableStoppingCriteria,
  ): Promise<{ text: string; tokens: number }> {
    const inputs = this.chatIds(userMessage);
    const promptLength = (inputs.input_ids as Tensor).dims[1]!;
    this.checkLength(promptLength, settings.maxNewTokens, 'the answer may take up to');
    random.seed(settings.seed);
    const streamer = new TextStreamer(this.tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: onText,
    });
    const sampled = settings.temperature > 0;
    const output = (await this.model.generate({
      ...inputs,
      max_new_tokens: settings.maxNewTokens,
      ...(settings.ignoreEos ? { min_new_tokens: settings.maxNewTokens } : {}),
      do_sample: sampled,
      ...(sampled
        ? { temperature: settings.temperature, top_k: settings.topK, top_p: settings.topP }
        : {}),
      streamer,
      stopping_criteria: [stopper],
    })) as Tensor;
    const all = Array.from(output.data as BigInt64Array, Number);
    const fresh = all.slice(promptLength);
    return {
      text: this.tokenizer.decode(fresh, { skip_special_tokens: true }),
      tokens: fresh.length,
    };
  }

  /**
   * For the benchmark: greedy generation of exactly `newTokens` tokens for `batch` copies of
   * one message, with the KV cache (transformers.js's generate) or without it (the whole
   * sequence run again for each token). Returns the tokens generated and the seconds.
   */
  async generateCopies(
    userMessage: string,
    batch: number,
    newTokens: number,
    useCache: boolean,
  ): Promise<{ tokens: number; seconds: number }> {
    const one = this.chatIds(userMessage);
    const ids = one.input_ids as Tensor;
    const mask = one.attention_mask as Tensor;
    const repeat = (t: Tensor) => {
      const row = t.data as BigInt64Array;
      const data = new BigInt64Array(batch * row.length);
      for (let b = 0; b < batch; b++) data.set(row, b * row.length);
      return new Tensor('int64', data, [batch, row.length]);
    };
    const start = performance.now();
    if (useCache) {
      const output = (await this.model.generate({
        input_ids: repeat(ids),
        attention_mask: repeat(mask),
        max_new_tokens: newTokens,
        min_new_tokens: newTokens,
        do_sample: false,
      })) as Tensor;
      const seconds = (performance.now() - start) / 1000;
      return { tokens: batch * (output.dims[1]! - ids.dims[1]!), seconds };
    }
    // Without the cache (transformers.js's generate always uses one): the whole sequence
    // through the model at every step, greedy.
    const rows = Array.from({ length: batch }, () => Array.from(ids.data as BigInt64Array));
    for (let step = 0; step < newTokens; step++) {
      const length = rows[0]!.length;
      const out = (await this.model({
        input_ids: new Tensor('int64', BigInt64Array.from(rows.flat()), [batch, length]),
        attention_mask: new Tensor('int64', new BigInt64Array(batch * length).fill(1n), [
          batch,
          length,
        ]),
      })) as Record<string, Tensor>;
      const logits = out.logits!; // [B, T, V]
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      rows.forEach((row, b) => {
        const last = data.subarray(((b + 1) * length - 1) * vocab, (b + 1) * length * vocab);
        let best = 0;
        for (let v = 1; v < vocab; v++) if (last[v]! > last[best]!) best = v;
        row.push(BigInt(best));
      });
      for (const tensor of Object.values(out)) tensor.dispose();
    }
    return { tokens: batch * newTokens, seconds: (performance.now() - start) / 1000 };
  }

  /**
   * Total log-probability of each option as the answer's continuation after `userMessage`
   * (its chat form, assistant turn open). The prompt is run once; every option reuses its
   * key/value cache, so scoring costs one prefill plus each option's own tokens.
   */
  async scoreContinuations(userMessage: string, options: string[]): Promise<number[]> {
    const prompt = this.chatIds(userMessage);
    const promptIds = prompt.input_ids as Tensor;
    const promptLength = promptIds.dims[1]!;
    const optionIds = options.map((o) => this.tokenizer.encode(o, { add_special_tokens: false }));
    const longest = Math.max(0, ...optionIds.map((ids) => ids.length));
    this.checkLength(promptLength, longest, 'the longest option to score is');
    const prefill = (await this.model(prompt)) as Record<string, Tensor>;
    const lastLogits = logitsRow(prefill.logits!, promptLength - 1);
    // The cache as inputs for the next call: present.{i}.key → past_key_values.{i}.key.
    const past: Record<string, Tensor> = {};
    for (const [name, tensor] of Object.entries(prefill))
      if (name.startsWith('present')) past[name.replace('present', 'past_key_values')] = tensor;
    try {
      const scores: number[] = [];
      for (const ids of optionIds) {
        if (ids.length === 0) throw new Error('An option to score is empty.');
        let total = logSoftmaxAt(lastLogits, ids[0]!);
        if (ids.length > 1) {
          const rest = ids.slice(0, -1); // tokens whose logits predict ids[1..]
          const out = (await this.model({
            input_ids: int64Tensor([rest]),
            attention_mask: int64Tensor([new Array<number>(promptLength + rest.length).fill(1)]),
            past_key_values: past,
          })) as Record<string, Tensor>;
          for (let t = 0; t < rest.length; t++)
            total += logSoftmaxAt(logitsRow(out.logits!, t), ids[t + 1]!);
          for (const tensor of Object.values(out)) tensor.dispose();
        }
        scores.push(total);
      }
      return scores;
    } finally {
      for (const tensor of Object.values(prefill)) tensor.dispose();
    }
  }

  /** One tiny scoring pass right after loading, so ONNX Runtime's first-run set-up (kernel
   * and shader compilation, buffer allocation) is not paid by the run's first request. */
  async warmUp(): Promise<void> {
    await this.scoreContinuations('Hello.', ['Hi.']);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** ONNX Runtime's failure to read a model file, in words (others are passed on as they are). */
function onnxLoadError(id: string, source: 'local' | 'hub', error: unknown): unknown {
  const detail = describeError(error);
  if (signalled(error) || !/protobuf|onnx|failed to load model|invalid model/i.test(detail))
    return error;
  const redo =
    source === 'local'
      ? `Export it again (npm run export-onnx) or choose another feedback model`
      : 'Its download may be damaged: clear this site’s data to download it again, or choose another feedback model';
  return new Error(
    `The feedback model "${id}" could not be loaded: its ONNX file is damaged or not an ONNX model (ONNX Runtime says: ${detail}). ${redo}.`,
  );
}

/** A download stopped on purpose (the abort thrown from the progress callback). */
const signalled = (error: unknown) => error instanceof DOMException && error.name === 'AbortError';
