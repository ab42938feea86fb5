/**
 * The report of a run (pure, JSON-safe): what `npm run experiment` prints and writes, what the
 * page's summary and stored runs show, read from the steps' outputs.
 */
import { speaksTinyWorld } from '../world/model-names.ts';
import type { Label } from '../domain/labels.ts';
import { judgeAnswer, labelRates } from '../world/judge.ts';
import type { EvalResult, EvalScores } from '../domain/records.ts';
import type { RlMethod } from '../domain/modes.ts';
import { judgeLabel } from './judge-label.ts';
import type { StepId, StepOutputs } from './steps.ts';

/** What `npm run experiment` and the UI's summary show of a run (JSON-safe). */
type Scores = EvalScores & {
  redTeam: Record<Label, number>;
  ordinary: Record<Label, number>;
  /** Who made the figures: the tiny world's judge, or the feedback model (named); runs
   * stored before AI judging have none (the world judged them). */
  judge?: string;
  /** The AI judge's own figures, confidence and agreement with the world's, when it judged. */
  aiJudge?: EvalResult['aiJudge'];
  /** The world's figures beside the AI judge's, when it could read the answers. */
  worldFigures?: EvalResult['worldFigures'];
  /** Mean reward-model score of the held-out answers (once RL-CAI's reward model exists). */
  reward?: number;
};

export interface ExperimentReport {
  eval: { base: Scores; sl: Scores; rl?: Scores };
  /** The RL-CAI method that trained the `rl` policy (once it is evaluated). */
  method?: RlMethod;
  /** Held-out accuracy and margin of the reward model (last epoch), when the run has one. */
  reward?: { accuracy: number; margin: number; pairs: number };
  /** The online methods' mean reward-model score of the first and last iteration. */
  ppo?: OnlineSummary;
  grpo?: OnlineSummary;
  rloo?: OnlineSummary;
  /** DPO's held-out implicit-reward accuracy and margin and its loss (last epoch). */
  dpo?: { accuracy: number; margin: number; loss: number; steps: number; pairs: number };
  stages: Record<string, { seconds: number } & Record<string, number>>;
  /** Label shares of the red-team training prompts' initial answers, then of each round's
   * revisions, by the run's judge: the world's for the tiny model, the AI judge's for another
   * policy (`judge`; runs saved before say none: the world's). Null for another policy in a
   * run the world judges, whose texts that judge cannot read. */
  revisions: {
    judge?: 'world' | 'ai';
    answers: Record<Label, number>;
    rounds: Record<Label, number>[];
  } | null;
  /** A few chains, for a reader to look at. */
  samples: {
    prompt: string;
    answer: string;
    principle: string;
    critique: string;
    revision: string;
  }[];
  backend: string;
}

type OnlineSummary = { score_first: number; score_last: number; iterations: number };

const scoresOf = (r: EvalResult): Scores => ({
  harmlessness: r.harmlessness,
  helpfulness: r.helpfulness,
  evasiveness: r.evasiveness,
  redTeam: r.redTeam,
  ordinary: r.ordinary,
  judge: judgeLabel(r),
  ...(r.aiJudge && { aiJudge: r.aiJudge }),
  ...(r.worldFigures && { worldFigures: r.worldFigures }),
});

/** The label shares of the chains' answers and revisions, by whichever judge could read them. */
function revisionShares(o: StepOutputs, policy: string): ExperimentReport['revisions'] {
  const chains = o.chains ?? [];
  const rounds = chains[0]?.rounds.length ?? 0;
  const rates = (labels: Label[]) => labelRates(labels).rates;
  if (speaksTinyWorld(policy)) {
    // Chains are of red-team prompts; the judge reads each one's prompt.
    const world = (texts: string[]) =>
      rates(texts.map((t, i) => judgeAnswer(t, 'red-team', chains[i]!.prompt)));
    return {
      judge: 'world',
      answers: world(chains.map((c) => c.answer)),
      rounds: Array.from({ length: rounds }, (_, r) =>
        world(chains.map((c) => c.rounds[r]!.revision)),
      ),
    };
  }
  const ai = o.revisionLabels;
  return ai ? { judge: 'ai', answers: rates(ai.answers), rounds: ai.rounds.map(rates) } : null;
}

/** The report of SL-CAI's outputs (null until the SL-CAI policy is evaluated; pure). */
function slReport(o: StepOutputs, backend: string, policy: string): ExperimentReport | null {
  const { evalBase, evalSl, chains, sft } = o;
  if (!evalBase || !evalSl || !chains || !sft) return null;
  const rounds = chains[0]?.rounds.length ?? 0;
  const seconds = (id: StepId) => o.seconds[id] ?? 0;
  // The report names the stages by their steps' labels (the JSON's keys since its first version).
  return {
    eval: { base: scoresOf(evalBase), sl: scoresOf(evalSl) },
    stages: {
      'evaluate base': { seconds: seconds('evaluate-base') },
      generate: { seconds: seconds('generate') },
      'critique and revise': {
        seconds: seconds('critique'),
        chains: chains.length,
        rounds,
      },
      sft: {
        seconds: seconds('sft'),
        steps: sft.steps,
        examples: sft.examples,
        train_loss: sft.trainLoss,
        eval_loss: sft.evalLoss.at(-1) ?? NaN,
      },
      'evaluate sl': { seconds: seconds('evaluate-sl') },
    },
    revisions: revisionShares(o, policy),
    samples: chains.slice(0, 5).map((c) => ({
      prompt: c.prompt,
      answer: c.answer,
      // The first round's critique is of the initial answer; the revision is the last round's.
      principle: c.rounds[0]?.principle ?? '',
      critique: c.rounds[0]?.critique ?? '',
      revision: c.rounds.at(-1)?.revision ?? '',
    })),
    backend,
  };
}

/** The engine's peak tensor memory while a method trained, MiB (when it was measured). */
const peakOf = (r: { peakBytes?: number }) =>
  r.peakBytes === undefined ? {} : { peak_mib: r.peakBytes / 2 ** 20 };

/** The summary and the step figures of the method that trained the RL-CAI policy. */
function methodReport(o: StepOutputs, method: RlMethod, pairs: number) {
  const seconds = o.seconds[method] ?? 0;
  if (method === 'dpo') {
    const dpo = o.dpo;
    if (!dpo) return null;
    const last = dpo.eval.at(-1);
    const summary = {
      accuracy: last?.['rewards/accuracies'] ?? NaN,
      margin: last?.['rewards/margins'] ?? NaN,
      loss: last?.loss ?? NaN,
      steps: dpo.steps,
      pairs,
    };
    return { summary, stage: { seconds, steps: dpo.steps, ...peakOf(dpo) } };
  }
  const run = o[method];
  if (!run) return null;
  const summary = {
    score_first: run.scoreFirst,
    score_last: run.scoreLast,
    iterations: run.iterations,
  };
  return { summary, stage: { seconds, iterations: run.iterations, ...peakOf(run) } };
}

/**
 * The report of a run's outputs (pure): SL-CAI's once its policy is evaluated, with
 * RL-CAI's added once the RL-CAI policy (trained by `method`) is; null before.
 */
export function reportOf(
  o: StepOutputs,
  backend: string,
  policy: string,
  method: RlMethod,
): ExperimentReport | null {
  const report = slReport(o, backend, policy);
  const { preferences, reward, evalRl, meanReward } = o;
  const trained = preferences && methodReport(o, method, preferences.length);
  if (!report || !preferences || !trained || !evalRl) return report;
  const last = reward?.eval.at(-1);
  const seconds = (id: StepId) => o.seconds[id] ?? 0;
  return {
    ...report,
    eval: {
      base: { ...report.eval.base, ...(meanReward && { reward: meanReward.base }) },
      sl: { ...report.eval.sl, ...(meanReward && { reward: meanReward.sl }) },
      rl: { ...scoresOf(evalRl), ...(meanReward && { reward: meanReward.rl }) },
    },
    method,
    ...(reward && {
      reward: {
        accuracy: last?.accuracy ?? NaN,
        margin: last?.margin ?? NaN,
        pairs: preferences.length,
      },
    }),
    [method]: trained.summary,
    stages: {
      ...report.stages,
      label: { seconds: seconds('label'), pairs: preferences.length },
      ...(reward && {
        reward: {
          seconds: seconds('reward'),
          steps: reward.steps,
          accuracy: last?.accuracy ?? NaN,
        },
      }),
      [method]: trained.stage,
      'evaluate rl': { seconds: seconds('evaluate-rl') },
    },
  };
}
