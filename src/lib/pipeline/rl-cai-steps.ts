/**
 * What RL-CAI's steps do (the list itself is steps.ts): the SL-CAI policy's answer pairs are
 * labelled by the feedback model, then the experiment's method learns from the labels (a
 * reward model and PPO, GRPO or RLOO against it; or DPO on the pairs), and the result is
 * evaluated.
 */
import type { PreferencePair } from '../domain/policy.ts';
import type { EvalResult } from '../domain/records.ts';
import { runLabel } from './label.ts';
import { splitHeldOut } from './sft-data.ts';
import {
  evaluateStep,
  need,
  stageSeeds,
  tagged,
  type StepContext,
  type StepResult,
} from './step-context.ts';
import type { StepOutputs } from './steps.ts';

export async function label({ experiment, ports, emit, signal }: StepContext): Promise<StepResult> {
  const preferences = await runLabel(
    {
      prompts: [...experiment.prompts.redTeam, ...experiment.prompts.ordinary],
      constitution: experiment.constitution,
      templates: experiment.templates,
    },
    experiment.stages.label,
    stageSeeds(experiment.seed).label,
    ports,
    emit,
    signal,
  );
  if (preferences.length < 2)
    throw new Error(
      `Only ${preferences.length} preference pair${preferences.length === 1 ? '' : 's'} survived labelling (the rest were identical answers or too close to call): the reward model needs at least 2. Raise the pairs per prompt or the pair sampling temperature, or lower the minimum margin.`,
    );
  return { outputs: { preferences } };
}

/** The labelled pairs as the trainers read them, split into train and held-out. */
function labelledPairs(o: StepOutputs, heldOutShare: number, seed: number) {
  const pairs: PreferencePair[] = need(o.preferences, 'preference labels (label)').map(
    ({ prompt, chosen, rejected, label }) => ({ prompt, chosen, rejected, label }),
  );
  return splitHeldOut(pairs, heldOutShare, seed);
}

export async function reward({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.reward;
  const seed = stageSeeds(experiment.seed).reward;
  const { train, heldOut } = labelledPairs(o, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.reward(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'reward'),
    signal,
  );
  return {
    outputs: { reward: { ...result, train: train.length, heldOut: heldOut.length } },
    checkpoint: { slot: 'reward' as const, bytes: checkpoint },
  };
}

// The online methods train on the red-team prompts: the reward model learned harmlessness
// preferences there; on ordinary prompts both answers are usually the same, so it has no
// signal to give and PPO would game it (measured: helpfulness fell from 93% to 2% when they
// were included).

export async function ppo({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  need(o.reward, 'a reward model (reward)');
  const { checkpoint, ...result } = await ports.policy.ppo(
    experiment.prompts.redTeam,
    experiment.stages.ppo,
    stageSeeds(experiment.seed).ppo,
    tagged(emit, 'ppo'),
    signal,
  );
  return { outputs: { ppo: result }, checkpoint: { slot: 'rl' as const, bytes: checkpoint } };
}

/** GRPO or RLOO, against the reward model, on the red-team prompts (as PPO). */
export const online =
  (kind: 'grpo' | 'rloo') =>
  async ({ experiment, ports, emit, signal }: StepContext, o: StepOutputs): Promise<StepResult> => {
    need(o.reward, 'a reward model (reward)');
    const method =
      kind === 'grpo'
        ? { kind, config: experiment.stages.grpo }
        : { kind, config: experiment.stages.rloo };
    const { checkpoint, ...result } = await ports.policy.groupRl(
      experiment.prompts.redTeam,
      method,
      stageSeeds(experiment.seed)[kind],
      tagged(emit, kind),
      signal,
    );
    return { outputs: { [kind]: result }, checkpoint: { slot: 'rl', bytes: checkpoint } };
  };

export async function dpo({ experiment, ports, emit, signal }: StepContext, o: StepOutputs) {
  const config = experiment.stages.dpo;
  const seed = stageSeeds(experiment.seed).dpo;
  const { train, heldOut } = labelledPairs(o, config.heldOutShare, seed);
  const { checkpoint, ...result } = await ports.policy.dpo(
    train,
    heldOut,
    config,
    seed,
    tagged(emit, 'dpo'),
    signal,
  );
  return {
    outputs: { dpo: { ...result, train: train.length, heldOut: heldOut.length } },
    checkpoint: { slot: 'rl' as const, bytes: checkpoint },
  };
}

export async function evaluateRl(ctx: StepContext, o: StepOutputs): Promise<StepResult> {
  const rl = await evaluateStep('evaluate-rl')(ctx);
  // The reward model's mean score of each policy's answers, when the run has one (DPO has not).
  if (!o.reward) return { outputs: { evalRl: rl } };
  const meanScore = async (e: EvalResult) => {
    const scores = await ctx.ports.policy.rewardScores(
      e.samples.map((s) => ({ prompt: s.prompt, response: s.text })),
      ctx.signal,
    );
    return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  };
  const meanReward = {
    base: await meanScore(need(o.evalBase, 'the base policy’s evaluation')),
    sl: await meanScore(need(o.evalSl, 'the SL-CAI policy’s evaluation')),
    rl: await meanScore(rl),
  };
  return { outputs: { evalRl: rl, meanReward } };
}
