import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointSlot, PolicyName } from '../domain/policy.ts';
import {
  AdapterPolicy,
  mergedBytes,
  type TrainedPolicy,
} from '../model/adapters/adapter-policy.ts';
import { formatBytes } from '../util/format-bytes.ts';
import type { LlamaModel } from '../model/architecture/llama.ts';
import { LoraAdapter } from '../model/adapters/lora.ts';
import type { LoraConfig } from '../model/adapters/lora-config.ts';
import type { PolicySession } from '../model/generation/policy-session.ts';
import { ScalarHeadModel } from '../model/adapters/scalar-head.ts';

/**
 * The models the engine worker holds, and how each is made: the loaded policy ('base'), its
 * SL-CAI fine-tune ('sl') and RL-CAI policy ('rl'), and the reward model. Two ways, by the
 * experiment's LoRA rank: full fine-tuning (each trained policy a copy of every weight: the
 * tiny model), or LoRA (one frozen base; each trained policy, the reward and the value model
 * an adapter on it: a real model).
 *
 * PPO's reference is the SL-CAI policy either way, as in the CAI paper and in TRL (whose PPO
 * adapter sits on the SFT model, so "adapters off" is the SFT model): here the RL adapter
 * starts as a copy of the SL-CAI adapter, so the reference is the base with the SL-CAI
 * adapter, frozen. The base with every adapter off would charge PPO for SL-CAI's own change:
 * measured on the tiny model (rank 8), objective/kl was 0.46 at PPO's first iteration.
 */
export class EnginePolicies {
  private readonly policies = new Map<PolicyName, TrainedPolicy>();
  /**
   * The reward model, once trained: kept as its checkpoint, and built on the active backend
   * from it when needed, so it survives a switch of backend (a lost GPU device takes every
   * tensor on it along).
   */
  private reward: {
    bytes: Uint8Array;
    model: ScalarHeadModel | null;
    builtOn: string | null;
  } | null = null;
  /** The LoRA settings (null: full fine-tuning). */
  private lora: LoraConfig | null = null;

  /** Replaces every model with a newly loaded base policy (frozen for LoRA). */
  load(session: PolicySession, lora: LoraConfig | null): PolicySession {
    for (const old of this.policies.values()) old.dispose();
    this.policies.clear();
    this.setReward(null);
    this.lora = lora;
    const base = lora ? session.frozenBase() : session;
    this.policies.set('base', base);
    return base;
  }

  /** The loaded base, if it matches what a run asks for (the same id, trained the same way). */
  loaded(id: string, lora: LoraConfig | null): PolicySession | null {
    const base = this.policies.get('base') as PolicySession | undefined;
    const same = JSON.stringify(lora) === JSON.stringify(this.lora);
    return base?.id === id && same ? base : null;
  }

  /** The loaded base, or null before one is loaded. */
  loadedBase(): PolicySession | null {
    return (this.policies.get('base') as PolicySession | undefined) ?? null;
  }

  base(): PolicySession {
    return this.need('base') as PolicySession;
  }

  /** LoRA's settings, or null when whole models are fine-tuned. */
  get loraSettings(): LoraConfig | null {
    return this.lora;
  }

  need(name: PolicyName = 'base'): TrainedPolicy {
    const policy = this.policies.get(name);
    if (!policy)
      throw new Error(
        name === 'base'
          ? 'No policy model is loaded yet.'
          : name === 'sl'
            ? 'There is no SL-CAI policy yet: run SL-CAI first.'
            : 'There is no RL-CAI policy yet: run the whole recipe first.',
      );
    return policy;
  }

  /** Replaces a named trained policy, disposing the old one. */
  set(name: 'sl' | 'rl', policy: TrainedPolicy | null): void {
    this.policies.get(name)?.dispose();
    this.policies.delete(name);
    if (policy) this.policies.set(name, policy);
  }

  /** A new SL-CAI policy to fine-tune: a copy of the base, or a fresh adapter on it. */
  async freshSl(seed: number): Promise<TrainedPolicy> {
    const base = this.base();
    return this.lora ? AdapterPolicy.init('sl', base, this.lora, seed) : base.copy('sl');
  }

  /** PPO's frozen reference: the SL-CAI policy (with LoRA, the base and its frozen adapter). */
  reference(): LlamaModel {
    return this.need('sl').current();
  }

  /**
   * A new reward model started from the SL-CAI policy: a copy of its weights, or an adapter
   * copied from its adapter on the shared base; the head is new (TRL's initialisation).
   */
  newReward(seed: number): ScalarHeadModel {
    const sl = this.need('sl');
    if (!(sl instanceof AdapterPolicy)) return ScalarHeadModel.from(sl.current(), seed);
    return ScalarHeadModel.onBase(this.base().current(), sl.currentAdapter().copy(), seed);
  }

  setReward(bytes: Uint8Array | null, model: ScalarHeadModel | null = null): void {
    this.reward?.model?.dispose();
    this.reward = bytes ? { bytes, model, builtOn: model && tf.getBackend() } : null;
  }

  needReward(): ScalarHeadModel {
    const reward = this.reward;
    if (!reward) throw new Error('There is no reward model yet: train it first.');
    if (!reward.model || reward.builtOn !== tf.getBackend()) {
      reward.model?.dispose();
      const base = this.base();
      reward.model = ScalarHeadModel.fromSafetensors(
        base.config,
        reward.bytes,
        this.lora ? base.current() : undefined,
      );
      reward.builtOn = tf.getBackend();
    }
    return reward.model;
  }

  /** Loads a stored checkpoint into its slot; one that does not fit throws. */
  loadCheckpoint(slot: CheckpointSlot, bytes: Uint8Array): void {
    const base = this.base();
    if (slot === 'reward') {
      this.setReward(bytes);
      this.needReward();
    } else
      this.set(
        slot,
        this.lora
          ? AdapterPolicy.fromCheckpoint(slot, base, bytes)
          : base.withCheckpoint(slot, bytes),
      );
  }

  /**
   * A trained adapter (a checkpoint of this base) merged into the base, as one safetensors
   * model; refused with the numbers when the copy would not fit in `budget` bytes (a worker's
   * JavaScript heap holds a few GiB; 2 GiB leaves the models their room).
   */
  async merged(checkpoint: Uint8Array, budget = 2 * 2 ** 30): Promise<Uint8Array> {
    const base = this.base();
    const needs = mergedBytes(base.parameters);
    if (needs > budget)
      throw new Error(
        `Merging needs about ${formatBytes(needs)} at once (a float32 copy of ${base.id} and its file), more than the ${formatBytes(budget)} an export may take here: export the adapter instead (PEFT merges it in Python with merge_and_unload()).`,
      );
    const policy = AdapterPolicy.fromCheckpoint('merged', base, checkpoint);
    try {
      return await policy.mergedSafetensors({ merged_from: base.id });
    } finally {
      policy.dispose();
    }
  }

  /** Runs `work` with dropout on in the policy's adapter (LoRA dropout trains, never answers). */
  async training<T>(policy: TrainedPolicy, work: () => Promise<T>): Promise<T> {
    const adapter: LoraAdapter | null =
      policy instanceof AdapterPolicy ? policy.currentAdapter() : null;
    if (adapter) adapter.training = true;
    try {
      return await work();
    } finally {
      if (adapter) adapter.training = false;
    }
  }
}
