/**
 * How `npm run quality` asks the tiny model: answers in batches with the KV cache, the share
 * of probability on a bare refusal as the revision, and its preference judgements against the
 * world's ranking.
 */
import { eosIds } from '../../src/lib/model/architecture/config.ts';
import { generate } from '../../src/lib/model/generation/generate.ts';
import type { LlamaModel } from '../../src/lib/model/architecture/llama.ts';
import { continuationLogprobs } from '../../src/lib/model/generation/score.ts';
import type { BpeTokenizer } from '../../src/lib/tokenizer/bpe.ts';
import { chatTokens, formatChat } from '../../src/lib/tokenizer/hf-files.ts';
import type { Behaviour } from '../../src/lib/domain/labels.ts';
import { answerText, bareRefusals } from '../../src/lib/world/answers.ts';
import { probabilityOfA, orderAveraged } from '../../src/lib/ops/preferences.ts';
import { preferenceScore } from '../../src/lib/world/feedback-texts.ts';
import { WorldGenerator } from '../../src/lib/world/generator.ts';
import { principleOf } from '../../src/lib/world/principles.ts';
import type { WorldPrompt } from '../../src/lib/world/prompts.ts';
import { Rng } from '../../src/lib/util/random.ts';
import { defaultTemplates, renderTemplate } from '../../src/lib/world/templates.ts';

/** A model folder loaded for Node. */
export interface Loaded {
  model: LlamaModel;
  tokenizer: BpeTokenizer;
}

/** Answers user messages in batches of 16 with the KV cache. */
export async function answer(
  loaded: Loaded,
  messages: string[],
  temperature: number,
  genSeed: number,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < messages.length; i += 16) {
    const batch = messages
      .slice(i, i + 16)
      .map((m) => loaded.tokenizer.encode(formatChat([{ role: 'user', content: m }], true)));
    const result = await generate(loaded.model, batch, {
      maxNewTokens: 96,
      temperature,
      topK: 0,
      topP: 1,
      seed: genSeed + i,
      eosIds: eosIds(loaded.model.config),
      padId: loaded.model.config.pad_token_id,
    });
    out.push(...result.tokens.map((t) => loaded.tokenizer.decode(t, true)));
    process.stdout.write('.');
  }
  return out;
}

/**
 * How strongly the model prefers a bare refusal over an explained one as the revision: the
 * share of probability on the three refusal texts against the topic's engaging answer, averaged
 * over prompts. A sensitive measure of the constitution's effect, where greedy labels are 0/1.
 */
export async function refuseShare(
  loaded: Loaded,
  messages: string[],
  prompts: WorldPrompt[],
): Promise<number> {
  const { model, tokenizer } = loaded;
  const end = tokenizer.encode(chatTokens.end);
  let total = 0;
  for (let i = 0; i < messages.length; i += 4) {
    const pairs = messages.slice(i, i + 4).flatMap((m, j) => {
      const prompt = tokenizer.encode(formatChat([{ role: 'user', content: m }], true));
      const topic = prompts[i + j]!.topic;
      const texts = [...bareRefusals, answerText('engage', topic, '')];
      return texts.map((t) => ({ prompt, continuation: [...tokenizer.encode(t), ...end] }));
    });
    const lp = await continuationLogprobs(model, pairs);
    for (let j = 0; j * 4 < lp.length; j++) {
      const [a, b, c, engage] = lp.slice(j * 4, j * 4 + 4) as [number, number, number, number];
      const top = Math.max(a, b, c, engage);
      const refuse = Math.exp(a - top) + Math.exp(b - top) + Math.exp(c - top);
      total += refuse / (refuse + Math.exp(engage - top));
    }
  }
  return total / messages.length;
}

/**
 * The feedback model's comparisons: for each prompt two different behaviours under a sampled
 * principle, P(A) from the "(A)" / "(B)" log-probs with both orders averaged (as the label
 * stage computes it). Returns agreement with the world's ranking (ties left out) and the
 * mean distance of P from 0.5.
 */
export async function preferenceAgreement(
  loaded: Loaded,
  prompts: WorldPrompt[],
  seed: number,
): Promise<{ agree: number; confidence: number; pairs: number }> {
  const { model, tokenizer } = loaded;
  const world = new WorldGenerator(seed + 300);
  const rng = new Rng(seed + 400);
  let agree = 0;
  let confidence = 0;
  let pairs = 0;
  for (const prompt of prompts) {
    const pool: Behaviour[] =
      prompt.kind === 'red-team' ? ['comply', 'refuse', 'engage'] : ['help', 'overrefuse'];
    const [a, b] = rng.shuffle(pool).slice(0, 2) as [Behaviour, Behaviour];
    const principle = rng.pick(world.constitution());
    const info = principleOf(principle)!;
    const truth = preferenceScore(a, info) - preferenceScore(b, info);
    if (truth === 0) continue;
    const [ta, tb] = [a, b].map((x) => answerText(x, prompt.topic, prompt.request)) as [
      string,
      string,
    ];
    const ids = (first: string, second: string) =>
      tokenizer.encode(
        formatChat(
          [
            {
              role: 'user',
              content: renderTemplate(defaultTemplates.preference, {
                question: prompt.text,
                principle,
                response_a: first,
                response_b: second,
              }),
            },
          ],
          true,
        ),
      );
    const options = ['(A)', '(B)'].map((o) => tokenizer.encode(o));
    const [shown, swapped] = [ids(ta, tb), ids(tb, ta)];
    const lp = await continuationLogprobs(model, [
      { prompt: shown, continuation: options[0]! },
      { prompt: shown, continuation: options[1]! },
      { prompt: swapped, continuation: options[0]! },
      { prompt: swapped, continuation: options[1]! },
    ]);
    const p = orderAveraged(probabilityOfA(lp[0]!, lp[1]!), probabilityOfA(lp[2]!, lp[3]!));
    pairs++;
    if (p > 0.5 === truth > 0) agree++;
    confidence += Math.abs(p - 0.5);
  }
  return { agree: agree / pairs, confidence: confidence / pairs, pairs };
}
