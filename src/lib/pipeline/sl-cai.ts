import type { Experiment } from '../state/experiment.ts';
import type { SftRunResult } from '../workers/protocol.ts';
import { runCritiqueRevise, type Chain } from './critique-revise.ts';
import { runEvaluate, type EvalResult } from './evaluate.ts';
import type { EmitEvent } from './events.ts';
import { answerAll } from './generate.ts';
import type { Ports } from './ports.ts';
import { stageTimer } from './timing.ts';
import { buildSftSet, splitHeldOut } from './sft-data.ts';

/** Everything an SL-CAI run produces. */
export interface SlCaiResult {
  eval: { base: EvalResult; sl: EvalResult };
  answers: { redTeam: string[]; ordinary: { prompt: string; text: string }[] };
  chains: Chain[];
  sft: Omit<SftRunResult, 'checkpoint'> & { examples: number; heldOutExamples: number };
  /** The SL-CAI policy's weights (safetensors). */
  checkpoint: Uint8Array;
  /** Wall time of each stage, seconds. */
  seconds: Record<string, number>;
}

/** Seeds of the stages, derived from the experiment's seed so each stage has its own stream. */
export const stageSeeds = (seed: number) => ({
  generate: seed * 1000 + 1,
  critique: seed * 1000 + 2,
  sft: seed * 1000 + 3,
  evaluate: seed * 1000 + 4,
});

/**
 * SL-CAI from start to end: evaluate the base policy, answer the training prompts, critique
 * and revise the red-team answers, fine-tune on the revisions plus helpful answers, evaluate
 * the fine-tuned policy on the same held-out prompts.
 */
export async function runSlCai(
  experiment: Experiment,
  ports: Ports,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<SlCaiResult> {
  const { stages, prompts } = experiment;
  const seeds = stageSeeds(experiment.seed);
  const seconds: Record<string, number> = {};
  const timed = stageTimer(emit, seconds);

  const base = await timed('evaluate', 'evaluate base', () =>
    runEvaluate(
      prompts.heldOut,
      'base',
      stages.evaluate,
      seeds.evaluate,
      ports.policy,
      emit,
      signal,
    ),
  );

  const answers = await timed('generate', 'generate', async () => {
    const helpfulPrompts = prompts.ordinary.flatMap((p) =>
      new Array<string>(stages.generate.helpfulSamples).fill(p),
    );
    const all = [...prompts.redTeam, ...helpfulPrompts];
    const texts = await answerAll(
      ports.policy,
      'base',
      all,
      stages.generate,
      seeds.generate,
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
    return {
      redTeam: texts.slice(0, prompts.redTeam.length),
      ordinary: texts
        .slice(prompts.redTeam.length)
        .map((text, i) => ({ prompt: helpfulPrompts[i]!, text })),
    };
  });

  const chains = await timed('critique', 'critique and revise', () =>
    runCritiqueRevise(
      {
        prompts: prompts.redTeam,
        answers: answers.redTeam,
        constitution: experiment.constitution,
        templates: experiment.templates,
      },
      stages.critique,
      seeds.critique,
      ports.feedback,
      emit,
      signal,
    ),
  );

  const { checkpoint, ...sft } = await timed('sft', 'sft', async () => {
    const examples = buildSftSet(chains, answers.ordinary, stages.sft.everyRound);
    const { train, heldOut } = splitHeldOut(examples, stages.sft.heldOutShare, seeds.sft);
    const result = await ports.policy.sft(
      train,
      heldOut,
      stages.sft,
      seeds.sft,
      (step, values) => emit({ type: 'metrics', stage: 'sft', step, values }),
      signal,
    );
    return { ...result, examples: train.length, heldOutExamples: heldOut.length };
  });

  const sl = await timed('evaluate', 'evaluate sl', () =>
    runEvaluate(prompts.heldOut, 'sl', stages.evaluate, seeds.evaluate, ports.policy, emit, signal),
  );
  return { eval: { base, sl }, answers, chains, sft, checkpoint, seconds };
}
