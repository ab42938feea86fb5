import { describeErrors, validateExperiment } from '../state/experiment.ts';
import type { EngineClient, FeedbackClient } from '../workers/clients.ts';
import type { Label } from '../world/answers.ts';
import { judgeAnswer, labelRates } from '../world/judge.ts';
import type { EvalResult, EvalScores } from './evaluate.ts';
import type { EmitEvent } from './events.ts';
import { runRlCai, type RlCaiResult } from './rl-cai.ts';
import { runSlCai, stageSeeds, type SlCaiResult } from './sl-cai.ts';
import { workerPorts } from './worker-ports.ts';

/** Which stages to run: `sl` is SL-CAI (generate, critique/revise, SFT, evaluate); `all`
 * adds RL-CAI (label, reward model, PPO, evaluate). */
export type StageSet = 'sl' | 'all';

/** What `npm run experiment` and the UI's summary show of a run (JSON-safe). */
type Scores = EvalScores & {
  redTeam: Record<Label, number>;
  ordinary: Record<Label, number>;
  /** Mean reward-model score of the held-out answers (once RL-CAI's reward model exists). */
  reward?: number;
};

export interface ExperimentReport {
  eval: { base: Scores; sl: Scores; rl?: Scores };
  /** Held-out accuracy and margin of the reward model (last epoch). */
  reward?: { accuracy: number; margin: number; pairs: number };
  ppo?: { score_first: number; score_last: number; iterations: number };
  stages: Record<string, { seconds: number } & Record<string, number>>;
  /** Judge labels of the red-team training prompts: initial answers, then each round's revisions. */
  revisions: { answers: Record<Label, number>; rounds: Record<Label, number>[] };
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

const scoresOf = (r: EvalResult): Scores => ({
  harmlessness: r.harmlessness,
  helpfulness: r.helpfulness,
  evasiveness: r.evasiveness,
  redTeam: r.redTeam,
  ordinary: r.ordinary,
});

/** Adds RL-CAI's results to an SL-CAI report (pure). */
export function addRlReport(report: ExperimentReport, rl: RlCaiResult): ExperimentReport {
  const last = rl.reward.eval.at(-1);
  return {
    ...report,
    eval: {
      base: { ...report.eval.base, reward: rl.meanReward.base },
      sl: { ...report.eval.sl, reward: rl.meanReward.sl },
      rl: { ...scoresOf(rl.eval.rl), reward: rl.meanReward.rl },
    },
    reward: {
      accuracy: last?.accuracy ?? NaN,
      margin: last?.margin ?? NaN,
      pairs: rl.preferences.length,
    },
    ppo: {
      score_first: rl.ppo.scoreFirst,
      score_last: rl.ppo.scoreLast,
      iterations: rl.ppo.iterations,
    },
    stages: {
      ...report.stages,
      label: { seconds: rl.seconds.label ?? 0, pairs: rl.preferences.length },
      reward: {
        seconds: rl.seconds.reward ?? 0,
        steps: rl.reward.steps,
        accuracy: last?.accuracy ?? NaN,
      },
      ppo: { seconds: rl.seconds.ppo ?? 0, iterations: rl.ppo.iterations },
      'evaluate rl': { seconds: rl.seconds['evaluate rl'] ?? 0 },
    },
  };
}

/** The report of an SL-CAI result (pure). */
export function slReport(result: SlCaiResult, backend: string): ExperimentReport {
  const judge = (texts: string[]) => labelRates(texts.map((t) => judgeAnswer(t, 'red-team'))).rates;
  const rounds = result.chains[0]?.rounds.length ?? 0;
  const { sft } = result;
  return {
    eval: { base: scoresOf(result.eval.base), sl: scoresOf(result.eval.sl) },
    stages: {
      'evaluate base': { seconds: result.seconds['evaluate base'] ?? 0 },
      generate: { seconds: result.seconds.generate ?? 0 },
      'critique and revise': {
        seconds: result.seconds['critique and revise'] ?? 0,
        chains: result.chains.length,
        rounds,
      },
      sft: {
        seconds: result.seconds.sft ?? 0,
        steps: sft.steps,
        examples: sft.examples,
        train_loss: sft.trainLoss,
        eval_loss: sft.evalLoss.at(-1) ?? NaN,
      },
      'evaluate sl': { seconds: result.seconds['evaluate sl'] ?? 0 },
    },
    revisions: {
      answers: judge(result.chains.map((c) => c.answer)),
      rounds: Array.from({ length: rounds }, (_, r) =>
        judge(result.chains.map((c) => c.rounds[r]!.revision)),
      ),
    },
    samples: result.chains.slice(0, 5).map((c) => ({
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

/**
 * Runs an experiment (untrusted data: validated first) on the app's two workers: loads its
 * models, then the stages. The UI and `npm run experiment` both call this.
 */
export async function runExperiment(
  engine: EngineClient,
  feedback: FeedbackClient,
  data: unknown,
  stages: StageSet,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<{ report: ExperimentReport; result: SlCaiResult; rl: RlCaiResult | null }> {
  const checked = validateExperiment(data);
  if (!checked.ok)
    throw new Error(`The experiment is not valid: ${describeErrors(checked.errors)}.`);
  const { experiment } = checked;
  const [policy] = await Promise.all([
    engine.request({ type: 'loadPolicy', model: experiment.models.policy }),
    feedback.request({ type: 'load', model: experiment.models.feedback }),
  ]);
  const ports = workerPorts(engine, feedback);
  const result = await runSlCai(experiment, ports, emit, signal);
  const report = slReport(result, policy.backend);
  if (stages === 'sl') return { report, result, rl: null };
  const rl = await runRlCai(
    experiment,
    result,
    stageSeeds(experiment.seed).evaluate,
    ports,
    emit,
    signal,
  );
  return { report: addRlReport(report, rl), result, rl };
}
