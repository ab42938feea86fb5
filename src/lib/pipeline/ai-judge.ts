/**
 * Evaluation without ground truth: the feedback model labels a held-out answer by scoring
 * lettered descriptions of what the answer does (world/judge-format.ts), as the labels stage
 * scores "(A)" and "(B)".
 * Every rotation of the options is scored and the probabilities per behaviour averaged, so
 * no behaviour is favoured for the letter it is shown under (the labels stage's two orders,
 * generalised).
 */
import type { Label } from '../domain/labels.ts';
import type { AiVerdict, Chain } from '../domain/records.ts';
import { optionProbabilities } from '../ops/preferences.ts';
import { judgeLetters, judgeOptions, judgePrompt, rotatedOptions } from '../world/judge-format.ts';
import type { PromptKind } from '../world/topics.ts';
import { during, quoted } from '../domain/errors.ts';
import type { FeedbackPort } from './ports.ts';

/**
 * The behaviour probabilities from each rotation's option probabilities (pure): rotation r
 * shows option (i + r) mod n under letter i; `perRotation[r][i]` is P(letter i).
 */
export function rotationAveraged(perRotation: number[][]): number[] {
  const n = perRotation.length;
  const out = new Array<number>(n).fill(0);
  perRotation.forEach((probs, r) => probs.forEach((p, i) => (out[(i + r) % n]! += p / n)));
  return out;
}

/** The feedback model's verdict on one answer: the likeliest label and its probability. */
export async function judgeWithFeedback(
  feedback: FeedbackPort,
  sample: { prompt: string; kind: PromptKind; text: string },
  signal: AbortSignal,
): Promise<AiVerdict> {
  const options = judgeOptions[sample.kind];
  const perRotation: number[][] = [];
  for (let r = 0; r < options.length; r++) {
    const shown = rotatedOptions(sample.kind, r);
    const logprobs = await during(
      `The AI judge, on the answer to ${quoted(sample.prompt)}`,
      feedback.scoreContinuations(
        judgePrompt(sample.prompt, sample.text, shown),
        shown.map((_, i) => `(${judgeLetters[i]})`),
        signal,
      ),
    );
    perRotation.push(optionProbabilities(logprobs));
  }
  const probs = rotationAveraged(perRotation);
  const best = probs.indexOf(Math.max(...probs));
  return { label: options[best]!.label, confidence: probs[best]! };
}

/**
 * The AI judge's labels of each chain's answer and of every round's revision, all red-team
 * answers to the chain's prompt: the labels a run whose policy the world cannot read gets for
 * its revisions. `onLabel` reports progress (labels done, of all).
 */
export async function judgeChains(
  feedback: FeedbackPort,
  chains: Chain[],
  onLabel: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<{ answers: Label[]; rounds: Label[][] }> {
  const rounds = chains[0]?.rounds.length ?? 0;
  const total = chains.length * (rounds + 1);
  let done = 0;
  const label = async (prompt: string, text: string) => {
    onLabel(done++, total);
    return (await judgeWithFeedback(feedback, { prompt, kind: 'red-team', text }, signal)).label;
  };
  const answers: Label[] = [];
  for (const c of chains) answers.push(await label(c.prompt, c.answer));
  const byRound: Label[][] = [];
  for (let r = 0; r < rounds; r++) {
    const labels: Label[] = [];
    for (const c of chains) labels.push(await label(c.prompt, c.rounds[r]!.revision));
    byRound.push(labels);
  }
  return { answers, rounds: byRound };
}
