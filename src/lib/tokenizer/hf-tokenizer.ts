import { AutoTokenizer } from '@huggingface/transformers';
import { formatChat } from './hf-files.ts';

/** What the policy needs from a tokenizer (transformers.js's, in the app). */
export interface PolicyTokenizer {
  encode(text: string): number[];
  decode(ids: number[], skipSpecial: boolean): string;
  chat(userMessage: string): string;
}

/** Loads a model's tokenizer through transformers.js (from /models/<id>/ offline). */
export async function loadHfTokenizer(id: string): Promise<PolicyTokenizer> {
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }),
    decode: (ids, skipSpecial) => tokenizer.decode(ids, { skip_special_tokens: skipSpecial }),
    chat: (userMessage) => {
      const rendered = tokenizer.apply_chat_template([{ role: 'user', content: userMessage }], {
        tokenize: false,
        add_generation_prompt: true,
      });
      return typeof rendered === 'string'
        ? rendered
        : formatChat([{ role: 'user', content: userMessage }], true);
    },
  };
}
