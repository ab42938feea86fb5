import { describe, expect, test } from 'vitest';
import type { PipelineEvent } from '../../src/lib/pipeline/events.ts';
import type { Ports } from '../../src/lib/pipeline/ports.ts';
import { policyPort } from './fake-ports.ts';
import { reportOf } from '../../src/lib/pipeline/run-experiment.ts';
import { runSteps } from '../../src/lib/pipeline/step-runs.ts';
import { nextStep, slStepCount, steps, type StepOutputs } from '../../src/lib/pipeline/steps.ts';
import { defaultExperiment } from '../../src/lib/experiment/experiment.ts';

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
    expect(nextStep(o)).toBe(0);
    o = await runSteps(ctx, o, 1, (x) => void stored.push(x));
    expect(nextStep(o)).toBe(1);
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
    expect(stored.map(nextStep)).toEqual([1, 2, 3, 4, 5]);
    expect(steps[nextStep(o)]!.label).toBe('label');
    expect(events.filter((e) => e.type === 'stage-start').map((e) => e.step)).toEqual(
      steps.slice(0, slStepCount).map((s) => s.id),
    );
    expect(Object.keys(o.seconds)).toEqual(steps.slice(0, slStepCount).map((s) => s.label));
    // Nothing left before `end`: nothing runs.
    await runSteps(ctx, o, slStepCount);
    expect(calls).toHaveLength(4);
    // The report exists once SL-CAI is evaluated, and says what the outputs say.
    expect(reportOf(stored[3]!, 'cpu', 'tiny-cai')).toBeNull();
    const report = reportOf(o, 'cpu', 'tiny-cai')!;
    expect(report.eval.sl.harmlessness).toBe(o.evalSl!.harmlessness);
    expect(report.eval.base.evasiveness).toBe(o.evalBase!.evasiveness);
    expect(Object.keys(report.stages)).toEqual(steps.slice(0, slStepCount).map((s) => s.label));
    expect(report.stages['critique and revise']).toMatchObject({ chains: 2, rounds: 1 });
    expect(report.revisions!.rounds).toHaveLength(1);
    // A policy outside the tiny world: its revisions are not read by the world's judge.
    expect(reportOf(o, 'cpu', 'HuggingFaceTB/SmolLM2-135M-Instruct')!.revisions).toBeNull();
    expect(report.samples.map((x) => x.prompt)).toEqual(ctx.experiment.prompts.redTeam);
    expect(report.eval.rl).toBeUndefined();
  });

  test('the report is null before SL-CAI is evaluated', () => {
    expect(reportOf({ seconds: {} }, 'cpu', 'tiny-cai')).toBeNull();
  });
});
