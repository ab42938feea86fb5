import type { PreferenceRecord } from '../domain/records.ts';
import { clampLabel, orderAveraged, probabilityOfA } from '../ops/preferences.ts';
import { renderTemplate, type PromptTemplates } from '../world/templates.ts';
import type { LabelConfig } from '../experiment/stage-configs.ts';
import type { EmitEvent } from './events.ts';
import { answerAll, samplingSettings } from './generate.ts';
import { during, quoted, throwIfAborted } from '../domain/errors.ts';
import { type Ports } from './ports.ts';
import { samplePrinciples } from './principles.ts';

/**
 * The text before the final option in a chain-of-thought judgement ("... So the answer is "):
 * the options are scored as its continuations. Without a final "(", the reasoning is
 * followed by the world's closing phrase.
 */
export function reasoningPrefix(text: string): string {
  const at = text.lastIndexOf('(');
  return at > 0 ? text.slice(0, at) : `${text.trim()} So the answer is `;
}

export interface LabelInput {
  prompts: string[];
  constitution: string[];
  templates: PromptTemplates;
}

/**
 * P(the first shown is better) for one presentation order: in CoT mode the feedback model
 * reasons first (streamed under `key`), then "(A)" and "(B)" are scored as continuations.
 */
async function judgeOnce(
  pair: { template: string; question: string; principle: string; first: string; second: string },
  how: { config: LabelConfig; seed: number; key: string; place: string },
  ports: Ports,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<{ p: number; reasoning: string }> {
  const message = renderTemplate(pair.template, {
    question: pair.question,
    principle: pair.principle,
    response_a: pair.first,
    response_b: pair.second,
  });
  let reasoning = '';
  let prefix = '';
  if (how.config.mode === 'cot') {
    reasoning = await during(
      `${how.place}, the reasoning`,
      ports.feedback.generate(
        message,
        samplingSettings(how.config.reasoning, how.seed),
        (delta) => emit({ type: 'token', stage: 'label', key: how.key, delta }),
        signal,
      ),
    );
    prefix = reasoningPrefix(reasoning);
  }
  const [la, lb] = await during(
    `${how.place}, scoring (A) and (B)`,
    ports.feedback.scoreContinuations(message, [`${prefix}(A)`, `${prefix}(B)`], signal),
  );
  return { p: probabilityOfA(la!, lb!), reasoning };
}

/** The record of a labelled pair: `chosen` is the answer P(A) favours. */
function preferenceRecord(
  prompt: string,
  principle: string,
  a: string,
  b: string,
  probabilityA: number,
  reasoning: string,
): PreferenceRecord {
  const aWins = probabilityA >= 0.5;
  return {
    prompt,
    chosen: aWins ? a : b,
    rejected: aWins ? b : a,
    label: aWins ? probabilityA : 1 - probabilityA,
    principle,
    responseA: a,
    responseB: b,
    probabilityA,
    reasoning,
  };
}

/**
 * RL-CAI's AI feedback: the SL-CAI policy answers each prompt twice (pairsPerPrompt times
 * over); the feedback model compares the two under a sampled principle. P(A) comes from the
 * option log-probs (normalised), averaged over both orders to cancel position bias; in chain-of-thought mode
 * the reasoning is generated first and the label clamped to a band. Pairs of identical
 * answers, and pairs the feedback model cannot tell apart (P(A) within minMargin of 0.5,
 * before clamping), carry no preference and are left out.
 */
export async function runLabel(
  input: LabelInput,
  config: LabelConfig,
  seed: number,
  ports: Ports,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<PreferenceRecord[]> {
  // Each prompt is asked pairsPerPrompt times for a pair: [p0 p0 p0 p0 p1 p1 …] for 2.
  const pairPrompts = input.prompts.flatMap((p) => Array<string>(config.pairsPerPrompt).fill(p));
  const doubled = pairPrompts.flatMap((p) => [p, p]);
  const answers = await answerAll(
    ports.policy,
    'sl',
    doubled,
    config.sampling,
    seed,
    'label',
    'pair-',
    emit,
    signal,
  );
  const principles = samplePrinciples(input.constitution, pairPrompts.length, 1, seed + 1);
  const template =
    config.mode === 'cot' ? input.templates.cotPreference : input.templates.preference;
  const records: PreferenceRecord[] = [];
  for (let i = 0; i < pairPrompts.length; i++) {
    throwIfAborted(signal);
    const prompt = pairPrompts[i]!;
    const [a, b] = [answers[2 * i]!.trim(), answers[2 * i + 1]!.trim()];
    const principle = principles[i]![0]!;
    emit({
      type: 'progress',
      stage: 'label',
      done: i + 1,
      total: pairPrompts.length,
      message: `pair ${i + 1} of ${pairPrompts.length}`,
    });
    if (a === b || !a || !b) continue;
    const judge = (first: string, second: string, order: 'ab' | 'ba') =>
      judgeOnce(
        { template, question: prompt, principle, first, second },
        {
          config,
          seed: seed + i,
          key: `reasoning-${i}-${order}`,
          place: `Labelling, pair ${i + 1} of ${pairPrompts.length} (prompt ${quoted(prompt)}, ${order === 'ab' ? 'first' : 'second'} order)`,
        },
        ports,
        emit,
        signal,
      );
    const shown = await judge(a, b, 'ab');
    const swapped = await judge(b, a, 'ba');
    let probabilityA = orderAveraged(shown.p, swapped.p);
    // Too close to call: no preference to learn, and a coin flip for the held-out accuracy.
    if (Math.abs(probabilityA - 0.5) < config.minMargin) continue;
    if (config.mode === 'cot') probabilityA = clampLabel(probabilityA, config.cotBand);
    const record = preferenceRecord(prompt, principle, a, b, probabilityA, shown.reasoning);
    records.push(record);
    emit({ type: 'preference', index: i, record });
  }
  return records;
}
