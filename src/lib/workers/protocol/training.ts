import type {
  PpoRunResult,
  DpoRunResult,
  GroupRunResult,
  PreferencePair,
  RewardRunResult,
  SftExample,
  SftRunResult,
} from '../../domain/policy.ts';
import type { RewardTrainConfig } from '../../training/reward-config.ts';
import type { SftConfig } from '../../training/sft-config.ts';
import type { DpoConfig } from '../../training/dpo-config.ts';
import type { GroupMethod } from '../../training/online-config.ts';
import type { PpoConfig } from '../../training/ppo-config.ts';

/**
 * Training: SL-CAI's SFT, the reward model, and RL-CAI by PPO, DPO, GRPO or RLOO; each streams its
 * trainer's events as `train` replies (workers/engine/training-handlers.ts).
 */

export type TrainingRequest =
  /** Fine-tunes a copy of the base policy into the `sl` policy; streams `metrics` events. */
  | {
      type: 'sft';
      train: SftExample[];
      heldOut: SftExample[];
      config: SftConfig;
      seed: number;
    }
  /** Trains the reward model (SL-CAI trunk + scalar head) on preferences; streams `metrics`. */
  | {
      type: 'reward';
      train: PreferencePair[];
      heldOut: PreferencePair[];
      config: RewardTrainConfig;
      seed: number;
    }
  /** PPO from the SL-CAI policy against the reward model into the `rl` policy; streams
   * `metrics`, `samples` and `warning` events per iteration. */
  | { type: 'ppo'; prompts: string[]; config: PpoConfig; seed: number }
  /** DPO from the SL-CAI policy on labelled pairs into the `rl` policy (no reward model);
   * streams `metrics` per step and `eval/` metrics per epoch. */
  | {
      type: 'dpo';
      train: PreferencePair[];
      heldOut: PreferencePair[];
      config: DpoConfig;
      seed: number;
    }
  /** GRPO or RLOO from the SL-CAI policy against the reward model into the `rl` policy;
   * streams `metrics` and `samples` per iteration. */
  | { type: 'groupRl'; prompts: string[]; method: GroupMethod; seed: number };

export interface TrainingResults {
  sft: SftRunResult;
  reward: RewardRunResult;
  ppo: PpoRunResult;
  dpo: DpoRunResult;
  groupRl: GroupRunResult;
}
