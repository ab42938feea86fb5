import type { BpeModel } from './bpe.ts';

/**
 * The tokenizer in Hugging Face's file format: `tokenizer.json` (a byte-level BPE model with
 * the GPT-2 split regex) and `tokenizer_config.json` (special tokens and a ChatML chat
 * template), which transformers.js's AutoTokenizer loads.
 */

export const chatTokens = {
  endOfText: '<|endoftext|>',
  start: '<|im_start|>',
  end: '<|im_end|>',
} as const;

export const specialTokens = [chatTokens.endOfText, chatTokens.start, chatTokens.end];

/** ChatML, as SmolLM2 and Qwen2.5 use it. */
export const chatTemplate =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The chat template applied in plain TypeScript (same output as the Jinja template). */
export function formatChat(messages: ChatMessage[], addGenerationPrompt: boolean): string {
  const turns = messages.map(
    (m) => `${chatTokens.start}${m.role}\n${m.content}${chatTokens.end}\n`,
  );
  return turns.join('') + (addGenerationPrompt ? `${chatTokens.start}assistant\n` : '');
}

export function tokenizerJson(model: BpeModel): object {
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: null,
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(model.vocab.map((t, i) => [t, i])),
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function tokenizerConfigJson(maxLength: number): object {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: null,
    eos_token: chatTokens.end,
    pad_token: chatTokens.endOfText,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    chat_template: chatTemplate,
    added_tokens_decoder: Object.fromEntries(
      specialTokens.map((content, id) => [
        String(id),
        {
          content,
          lstrip: false,
          normalized: false,
          rstrip: false,
          single_word: false,
          special: true,
        },
      ]),
    ),
  };
}

/** Reads a tokenizer.json written by `tokenizerJson` back into a model. */
export function bpeModelFromJson(json: {
  added_tokens: { id: number; content: string }[];
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
}): BpeModel {
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) vocab[id] = token;
  const merges = json.model.merges.map((m) =>
    typeof m === 'string' ? (m.split(' ') as [string, string]) : m,
  );
  return { vocab, merges, specialTokens: json.added_tokens.map((t) => t.content) };
}
