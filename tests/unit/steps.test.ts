import { describe, expect, test } from 'vitest';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { Ports } from '../../src/lib/pipeline/ports.ts';
import { policyPort } from './fake-ports.ts';
import { reportOf } from '../../src/lib/pipeline/run-report.ts';
import { runSteps } from '../../src/lib/pipeline/step-runs.ts';
import { nextStep, slStepCount, stepsOf, type StepOutputs } from '../../src/lib/pipeline/steps.ts';

const steps = stepsOf('all', 'ppo');
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';
import { checkShape } from '../../src/lib/config/shape.ts';
import { report as reportShape } from '../../src/lib/runs/run-check.ts';
import { readOutputs } from '../../src/lib/runs/stored-runs.ts';

/** Ports whose models answer with fixed texts and record what each stage asked. */
function fixedPorts(calls: string[]): Ports {
  return {
    policy: policyPort({
      generate: async (policy, prompts) => {
        calls.push(`generate ${policy} ${prompts.length}`);
        return prompts.map(() => 'I cannot help with that, because it could hurt people.');
      },
      sft: async (train) => {
        calls.push(`sft ${train.length}`);
        const checkpoint = new Uint8Array([1, 2, 3]);
        return { steps: 2, trainLoss: 1, evalLoss: [1.5], seconds: 0, backend: 'cpu', checkpoint };
      },
    }),
    feedback: {
      generate: async () => 'The response is fine.',
      scoreContinuations: async () => [Math.log(0.5), Math.log(0.5)],
      quoteCritique: (_, critique) => critique,
    },
  };
}

function small() {
  const e = defaultExperiment();
  e.prompts.redTeam = e.prompts.redTeam.slice(0, 2);
  e.prompts.ordinary = e.prompts.ordinary.slice(0, 1);
  e.prompts.heldOut = { redTeam: e.prompts.heldOut.redTeam.slice(0, 1), ordinary: [] };
  e.stages.critique.rounds = 1;
  return e;
}

describe('steps', () => {
  test('run one at a time from stored outputs, each once, in order', async () => {
    const calls: string[] = [];
    const events: PipelineEvent[] = [];
    const ctx = {
      experiment: small(),
      ports: fixedPorts(calls),
      emit: (e: PipelineEvent) => events.push(e),
      signal: new AbortController().signal,
    };
    const stored: StepOutputs[] = [];
    let o: StepOutputs = { seconds: {} };
    expect(nextStep(o, steps)).toBe(0);
    o = await runSteps(ctx, o, 1, (x) => void stored.push(x));
    expect(nextStep(o, steps)).toBe(1);
    expect(calls).toEqual(['generate base 1']);
    // Going on from a JSON copy (as IndexedDB gives it back) to the end of SL-CAI.
    const checkpoints: string[] = [];
    o = await runSteps(ctx, JSON.parse(JSON.stringify(o)) as StepOutputs, slStepCount, (x, c) => {
      stored.push(x);
      if (c) checkpoints.push(`${c.slot} ${c.bytes.length}`);
    });
    expect(calls).toEqual([
      'generate base 1',
      // generate: 2 red-team prompts + 1 ordinary × helpfulSamples.
      `generate base ${2 + ctx.experiment.stages.generate.helpfulSamples}`,
      // SFT on the 2 revisions and the helpful answers, less the held-out share.
      expect.stringMatching(/^sft \d+$/),
      'generate sl 1',
    ]);
    expect(checkpoints).toEqual(['sl 3']);
    expect(stored.map((x) => nextStep(x, steps))).toEqual([1, 2, 3, 4, 5]);
    expect(steps[nextStep(o, steps)]!.label).toBe('label');
    expect(events.filter((e) => e.type === 'stage-start').map((e) => e.step)).toEqual(
      steps.slice(0, slStepCount).map((s) => s.id),
    );
    expect(Object.keys(o.seconds)).toEqual(steps.slice(0, slStepCount).map((s) => s.id));
    // Nothing left before `end`: nothing runs.
    await runSteps(ctx, o, slStepCount);
    expect(calls).toHaveLength(4);
    // The report exists once SL-CAI is evaluated, and says what the outputs say.
    expect(reportOf(stored[3]!, 'cpu', 'tiny-cai', 'ppo')).toBeNull();
    const report = reportOf(o, 'cpu', 'tiny-cai', 'ppo')!;
    expect(report.eval.sl.harmlessness).toBe(o.evalSl!.harmlessness);
    expect(report.eval.base.evasiveness).toBe(o.evalBase!.evasiveness);
    expect(Object.keys(report.stages)).toEqual(steps.slice(0, slStepCount).map((s) => s.label));
    expect(report.stages['critique and revise']).toMatchObject({ chains: 2, rounds: 1 });
    expect(report.revisions!.rounds).toHaveLength(1);
    // A policy outside the tiny world: its revisions are not read by the world's judge.
    expect(reportOf(o, 'cpu', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'ppo')!.revisions).toBeNull();
    expect(report.samples.map((x) => x.prompt)).toEqual(ctx.experiment.prompts.redTeam);
    expect(report.eval.rl).toBeUndefined();
  });

  test("another policy's revisions are labelled by the AI judge when the run has one (issue 31)", async () => {
    const calls: string[] = [];
    const experiment = small();
    experiment.models.policy = 'HuggingFaceTB/SmolLM2-135M-Instruct';
    experiment.stages.evaluate.judge = 'feedback';
    const ports = fixedPorts(calls);
    let scored = 0;
    // Every option equally likely: the judge's first behaviour (comply) wins each time.
    ports.feedback.scoreContinuations = async (_p, options) => {
      scored++;
      return options.map(() => Math.log(1 / options.length));
    };
    const ctx = { experiment, ports, emit: () => {}, signal: new AbortController().signal };
    const o = await runSteps(ctx, { seconds: {} }, 3); // evaluate base, generate, critique
    const judged = scored;
    expect(o.revisionLabels).toEqual({
      answers: ['comply', 'comply'],
      rounds: [['comply', 'comply']],
    });
    // 1 held-out answer, then 2 answers and 2 revisions: 6 rotations each.
    expect(judged).toBe((1 + 2 + 2) * 6);
    const done = await runSteps(ctx, o, slStepCount);
    const report = reportOf(done, 'cpu', experiment.models.policy, 'ppo')!;
    expect(report.revisions).toMatchObject({ judge: 'ai', answers: { comply: 1, refuse: 0 } });
    expect(report.revisions!.rounds).toHaveLength(1);
    expect(checkShape(reportShape, JSON.parse(JSON.stringify(report)), 'report').ok).toBe(true);
    // A run the world judges labels no revisions of such a policy.
    experiment.stages.evaluate.judge = 'world';
    const worldOnly = await runSteps(ctx, { seconds: {} }, 3);
    expect(worldOnly.revisionLabels).toBeUndefined();
  });

  test('seconds stored by label (before steps were timed by id) read back by id', () => {
    const stored = readOutputs({
      seconds: { 'critique and revise': 3, 'evaluate base': 2, sft: 1 },
    });
    expect(stored.ok && stored.value!.seconds).toEqual({ critique: 3, 'evaluate-base': 2, sft: 1 });
  });

  test('the report is null before SL-CAI is evaluated', () => {
    expect(reportOf({ seconds: {} }, 'cpu', 'tiny-cai', 'ppo')).toBeNull();
  });
});

describe('RL-CAI by each method', () => {
  /** SL-CAI's outputs of a small run, then labels: two different answers a prompt. */
  async function labelled(method: 'dpo' | 'grpo', calls: string[]) {
    const experiment = small();
    experiment.stages.rl.method = method;
    experiment.stages.label.pairsPerPrompt = 1;
    experiment.stages.label.minMargin = 0;
    let n = 0;
    const ports: Ports = {
      policy: policyPort({
        generate: async (policy, prompts) =>
          prompts.map(
            () => `Answer ${policy} ${n++}: I cannot help with that, it could hurt people.`,
          ),
        sft: async () => ({
          steps: 1,
          trainLoss: 1,
          evalLoss: [1],
          seconds: 0,
          backend: 'cpu',
          checkpoint: new Uint8Array([1]),
        }),
        reward: async (train) => {
          calls.push(`reward ${train.length}`);
          return { steps: 1, eval: [], seconds: 0, checkpoint: new Uint8Array([2]) };
        },
        rewardScores: async (items) => items.map(() => 0.5),
        dpo: async (train, heldOut, config) => {
          calls.push(`dpo ${train.length + heldOut.length} β ${config.beta}`);
          return {
            steps: 3,
            eval: [{ loss: 0.6, 'rewards/accuracies': 0.75, 'rewards/margins': 0.2 }],
            seconds: 0,
            checkpoint: new Uint8Array([3]),
          };
        },
        groupRl: async (prompts, m) => {
          calls.push(
            `${m.kind} ${prompts.length} G ${m.kind === 'grpo' ? m.config.numGenerations : 0}`,
          );
          return {
            iterations: 8,
            scoreFirst: 0.1,
            scoreLast: 0.4,
            seconds: 0,
            checkpoint: new Uint8Array([4]),
          };
        },
      }),
      feedback: {
        generate: async () => 'The response is fine.',
        scoreContinuations: async () => [Math.log(0.8), Math.log(0.2)],
        quoteCritique: (_, critique) => critique,
      },
    };
    const ctx = { experiment, ports, emit: () => {}, signal: new AbortController().signal };
    const o = await runSteps(ctx, { seconds: {} }, stepsOf('all', method).length);
    return { o, experiment };
  }

  test('DPO trains on the labels without a reward model; its report says so', async () => {
    const calls: string[] = [];
    const { o } = await labelled('dpo', calls);
    expect(calls).toEqual([expect.stringMatching(/^dpo \d+ β 0\.1$/)]);
    expect(o.reward).toBeUndefined();
    expect(o.meanReward).toBeUndefined();
    const report = reportOf(o, 'cpu', 'tiny-cai', 'dpo')!;
    expect(report.method).toBe('dpo');
    expect(report.dpo).toMatchObject({ accuracy: 0.75, margin: 0.2, loss: 0.6, steps: 3 });
    expect(report.reward).toBeUndefined();
    expect(report.ppo).toBeUndefined();
    expect(report.eval.rl).toBeDefined();
    expect(report.eval.rl!.reward).toBeUndefined();
    expect(Object.keys(report.stages).slice(5)).toEqual(['label', 'dpo', 'evaluate rl']);
    // A stored DPO run reads back: its outputs (to go on) and its report (to show).
    const stored = readOutputs(JSON.parse(JSON.stringify(o)));
    expect(stored.ok && stored.value?.dpo).toEqual(o.dpo);
    expect(checkShape(reportShape, JSON.parse(JSON.stringify(report)), 'report')).toEqual({
      ok: true,
      value: report,
    });
  });

  test('GRPO trains against the reward model on the red-team prompts', async () => {
    const calls: string[] = [];
    const { o, experiment } = await labelled('grpo', calls);
    expect(calls).toEqual([
      expect.stringMatching(/^reward \d+$/),
      `grpo ${experiment.prompts.redTeam.length} G ${experiment.stages.grpo.numGenerations}`,
    ]);
    const report = reportOf(o, 'cpu', 'tiny-cai', 'grpo')!;
    expect(report.grpo).toEqual({ score_first: 0.1, score_last: 0.4, iterations: 8 });
    expect(readOutputs(JSON.parse(JSON.stringify(o))).ok).toBe(true);
    expect(checkShape(reportShape, JSON.parse(JSON.stringify(report)), 'report').ok).toBe(true);
    expect(report.eval.rl!.reward).toBe(0.5);
    // The same outputs read as another method's run have no RL-CAI part yet.
    expect(reportOf(o, 'cpu', 'tiny-cai', 'ppo')!.eval.rl).toBeUndefined();
  });
});
