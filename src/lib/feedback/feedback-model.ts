import {
  AutoModelForCausalLM,
  AutoTokenizer,
  InterruptableStoppingCriteria,
  random,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import type { FeedbackDevice, GenerateSettings } from '../workers/protocol.ts';

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
  ) {}

  static async load(
    id: string,
    device: FeedbackDevice,
    onProgress?: (message: string) => void,
  ): Promise<FeedbackModel> {
    const progress_callback = (p: { status: string; file?: string; progress?: number }) => {
      if (p.status === 'progress' && p.file)
        onProgress?.(`${p.file} ${Math.round(p.progress ?? 0)}%`);
    };
    const tokenizer = await AutoTokenizer.from_pretrained(id, { progress_callback });
    const model = await AutoModelForCausalLM.from_pretrained(id, {
      dtype: 'fp32',
      device,
      progress_callback,
    });
    return new FeedbackModel(id, device, tokenizer, model);
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
    const promptLength = (inputs.input_ids as Tensor).dims[1]!;
    const all = Array.from(output.data as BigInt64Array, Number);
    const fresh = all.slice(promptLength);
    return {
      text: this.tokenizer.decode(fresh, { skip_special_tokens: true }),
      tokens: fresh.length,
    };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
