/**
 * Evaluation without ground truth: the feedback model labels a held-out answer by scoring
 * lettered descriptions of what the answer does (world/judge-format.ts), as the labels stage
 * scores "(A)" and "(B)".
 * Every rotation of the options is scored and the probabilities per behaviour averaged, so
 * no behaviour is favoured for the letter it is shown under (the labels stage's two orders,
 * generalised).
 */
import type { AiVerdict } from '../domain/records.ts';
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
