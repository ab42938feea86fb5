import { AutoTokenizer } from '@huggingface/transformers';
import type { PolicyTokenizer } from '../model/policy-session.ts';
import { formatChat } from './hf-files.ts';

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
