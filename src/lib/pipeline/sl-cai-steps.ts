/**
 * What SL-CAI's steps do (the list itself is steps.ts): the base policy answers, the feedback
 * model critiques and revises, the policy is fine-tuned on the revisions.
 */
import type { Experiment } from '../experiment/experiment.ts';
import { speaksTinyWorld } from '../world/model-names.ts';
import { judgeChains } from './ai-judge.ts';
import { runCritiqueRevise } from './critique-revise.ts';
import { answerAll } from './generate.ts';
import { buildSftSet, splitHeldOut } from './sft-data.ts';
import { need, stageSeeds, tagged, type StepContext, type StepResult } from './step-context.ts';
import type { StepOutputs } from './steps.ts';

/** The prompts the generate step answers, in order: the red-team prompts, then each ordinary
 * prompt as many times as it is sampled. */
export function trainingPrompts({ prompts, stages }: Experiment): string[] {
  const helpful = prompts.ordinary.flatMap((p) =>
    new Array<string>(stages.generate.helpfulSamples).fill(p),
  );
  return [...prompts.redTeam, ...helpful];
}

export async function generate({
  experiment,
  ports,
  emit,
  signal,
}: StepContext): Promise<StepResult> {
  const { prompts, stages } = experiment;
  const all = trainingPrompts(experiment);
  const helpfulPrompts = all.slice(prompts.redTeam.length);
  const texts = await answerAll(
    ports.policy,
    'base',
    all,
    stages.generate,
    stageSeeds(experiment.seed).generate,
    'generate',
    'answer-',
    emit,
    signal,
  );
  texts.forEach((text, index) =>
    emit({
      type: 'answer',
      index,
      kind: index < prompts.redTeam.length ? 'red-team' : 'ordinary',
      prompt: all[index]!,
      text,
    }),
  );
  const answers = {
    redTeam: texts.slice(0, prompts.redTeam.length),
    ordinary: texts
      .slice(prompts.redTeam.length)
      .map((text, i) => ({ prompt: helpfulPrompts[i]!, text })),
  };
  return { outputs: { answers } };
}

export async function critique(ctx: StepContext, o: StepOutputs): Promise<StepResult> {
  const { experiment } = ctx;
  const chains = await runCritiqueRevise(
    {
      prompts: experiment.prompts.redTeam,
      answers: need(o.answers, 'the policy’s answers (generate)').redTeam,
      constitution: experiment.constitution,
      templates: experiment.templates,
    },
    experiment.stages.critique,
    stageSeeds(experiment.seed).critique,
    ctx.ports.feedback,
    ctx.emit,
    ctx.signal,
  );
  // The world's judge reads only the tiny model's texts: another policy's revisions are read
  // by the AI judge, when the run has one.
  const aiJudges = experiment.stages.evaluate.judge !== 'world';
  if (speaksTinyWorld(experiment.models.policy) || !aiJudges) return { outputs: { chains } };
  const revisionLabels = await judgeChains(
    ctx.ports.feedback,
    chains,
    (done, total) =>
      ctx.emit({
        type: 'progress',
        stage: 'critique',
        done,
        total,
        message: `the AI judge (${experiment.models.feedback}) labels answers and revisions: ${done + 1} of ${total}`,
      }),
    ctx.signal,
  );
  return { outputs: { chains, revisionLabels } };
}

export async function sft({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.sft;
  const seed = stageSeeds(experiment.seed).sft;
  const examples = buildSftSet(
    need(o.chains, 'the revisions (critique and revise)'),
    need(o.answers, 'the policy’s answers (generate)').ordinary,
    config.everyRound,
  );
  const { train, heldOut } = splitHeldOut(examples, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.sft(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'sft'),
    signal,
  );
  return {
    outputs: { sft: { ...result, examples: train.length, heldOutExamples: heldOut.length } },
    checkpoint: { slot: 'sl' as const, bytes: checkpoint },
  };
}
