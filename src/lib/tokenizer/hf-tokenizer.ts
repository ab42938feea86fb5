import * as transformers from '@huggingface/transformers';
import { AutoTokenizer, PreTrainedTokenizer } from '@huggingface/transformers';
import { boundedTemplate } from './bounded-template.ts';
import { formatChat } from './hf-files.ts';

/** What the policy needs from a tokenizer (transformers.js's, in the app). */
export interface PolicyTokenizer {
  encode(text: string): number[];
  decode(ids: number[], skipSpecial: boolean): string;
  chat(userMessage: string): string;
}

/** Loads a model's tokenizer through transformers.js (from /models/<id>/ offline). */
export async function loadHfTokenizer(id: string): Promise<PolicyTokenizer> {
  return policyTokenizer(await AutoTokenizer.from_pretrained(id));
}

/**
 * A checkpoint's own tokenizer from its tokenizer.json and tokenizer_config.json (a download,
 * or files the user dropped), as transformers.js's class named by `tokenizer_class`, with the
 * checkpoint's chat template.
 */
export function tokenizerFromFiles(
  tokenizerJson: Record<string, unknown>,
  tokenizerConfig: Record<string, unknown>,
): PolicyTokenizer {
  const name = String(tokenizerConfig.tokenizer_class ?? 'PreTrainedTokenizer').replace(
    /Fast$/,
    '',
  );
  const named = (transformers as unknown as Record<string, unknown>)[name];
  const cls =
    typeof named === 'function' &&
    (named === PreTrainedTokenizer || named.prototype instanceof PreTrainedTokenizer)
      ? (named as typeof PreTrainedTokenizer)
      : PreTrainedTokenizer;
  return policyTokenizer(new cls(tokenizerJson, tokenizerConfig));
}

/** The tokenizer's chat templates (one, or several by name), each compiled to render with a
 * bound (bounded-template.ts) before transformers.js compiles its own. */
function boundTemplates(tokenizer: PreTrainedTokenizer): void {
  const own = tokenizer as unknown as {
    chat_template: string | Record<string, string> | null;
    _compiled_template_cache?: Map<string, unknown>;
  };
  const cache = own._compiled_template_cache;
  if (!(cache instanceof Map))
    throw new Error('This transformers.js has no chat-template cache to bound its templates in.');
  const texts =
    typeof own.chat_template === 'string'
      ? [own.chat_template]
      : Object.values(own.chat_template ?? {});
  for (const text of texts) if (typeof text === 'string') cache.set(text, boundedTemplate(text));
}

function policyTokenizer(tokenizer: PreTrainedTokenizer): PolicyTokenizer {
  boundTemplates(tokenizer);
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
