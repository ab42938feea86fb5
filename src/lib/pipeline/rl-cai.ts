import type { Experiment } from '../state/experiment.ts';
import type { PpoRunResult, PreferencePair, RewardRunResult } from '../workers/protocol.ts';
import { runEvaluate, type EvalResult } from './evaluate.ts';
import type { EmitEvent } from './events.ts';
import { runLabel, type PreferenceRecord } from './label.ts';
import type { Ports } from './ports.ts';
import { stageTimer } from './timing.ts';
import type { SlCaiResult } from './sl-cai.ts';
import { splitHeldOut } from './sft-data.ts';

export interface RlCaiResult {
  preferences: PreferenceRecord[];
  reward: RewardRunResult & { train: number; heldOut: number };
  ppo: Omit<PpoRunResult, 'checkpoint'>;
  /** The RL-CAI policy's weights (safetensors). */
  checkpoint: Uint8Array;
  eval: { rl: EvalResult };
  /** Mean reward-model score of each policy's held-out answers. */
  meanReward: { base: number; sl: number; rl: number };
  seconds: Record<string, number>;
}

export const rlSeeds = (seed: number) => ({
  label: seed * 1000 + 5,
  reward: seed * 1000 + 6,
  ppo: seed * 1000 + 7,
});

/**
 * RL-CAI after SL-CAI: AI preference labels from the SL-CAI policy's paired answers, a
 * reward model trained on them, PPO against it, and the same held-out evaluation.
 */
export async function runRlCai(
  experiment: Experiment,
  sl: SlCaiResult,
  evaluateSeed: number,
  ports: Ports,
  emit: EmitEvent,
  signal: AbortSignal,
): Promise<RlCaiResult> {
  const { stages, prompts } = experiment;
  const seeds = rlSeeds(experiment.seed);
  const seconds: Record<string, number> = {};
  const timed = stageTimer(emit, seconds);

  const training = [...prompts.redTeam, ...prompts.ordinary];

  const preferences = await timed('label', 'label', () =>
    runLabel(
      { prompts: training, constitution: experiment.constitution, templates: experiment.templates },
      stages.label,
      seeds.label,
      ports,
      emit,
      signal,
    ),
  );

  if (preferences.length < 2)
    throw new Error(
      `Only ${preferences.length} preference pair${preferences.length === 1 ? '' : 's'} survived labelling (the rest were identical answers or too close to call): the reward model needs at least 2. Raise the pairs per prompt or the pair sampling temperature, or lower the minimum margin.`,
    );

  const reward = await timed('reward', 'reward', async () => {
    const pairs: PreferencePair[] = preferences.map(({ prompt, chosen, rejected, label }) => ({
      prompt,
      chosen,
      rejected,
      label,
    }));
    const { train, heldOut } = splitHeldOut(pairs, stages.reward.heldOutShare, seeds.reward);
    const result = await ports.policy.reward(
      train,
      heldOut,
      stages.reward,
      seeds.reward,
      (step, values) => emit({ type: 'metrics', stage: 'reward', step, values }),
      signal,
    );
    return { ...result, train: train.length, heldOut: heldOut.length };
  });

  // PPO on the red-team prompts: the reward model learned harmlessness preferences there; on
  // ordinary prompts both answers are usually the same, so it has no signal to give and PPO
  // would game it (measured: helpfulness fell from 93% to 2% when they were included).
  const { checkpoint, ...ppo } = await timed('ppo', 'ppo', () =>
    ports.policy.ppo(
      prompts.redTeam,
      stages.ppo,
      seeds.ppo,
      (p) => {
        if (p.kind === 'metrics')
          emit({ type: 'metrics', stage: 'ppo', step: p.step, values: p.values });
        else if (p.kind === 'samples')
          emit({ type: 'samples', stage: 'ppo', step: p.step, samples: p.samples });
        else emit({ type: 'warning', stage: 'ppo', step: p.step, message: p.message });
      },
      signal,
    ),
  );

  const rl = await timed('evaluate', 'evaluate rl', () =>
    runEvaluate(prompts.heldOut, 'rl', stages.evaluate, evaluateSeed, ports.policy, emit, signal),
  );
  const meanScore = async (e: EvalResult) => {
    const scores = await ports.policy.rewardScores(
      e.samples.map((s) => ({ prompt: s.prompt, response: s.text })),
      signal,
    );
    return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  };
  const meanReward = {
    base: await meanScore(sl.eval.base),
    sl: await meanScore(sl.eval.sl),
    rl: await meanScore(rl),
  };
  return { preferences, reward, ppo, checkpoint, eval: { rl }, meanReward, seconds };
}
