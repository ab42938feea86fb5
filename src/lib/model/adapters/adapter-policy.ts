import * as tf from '@tensorflow/tfjs-core';
import type { LlamaModel } from '../architecture/llama.ts';
import { LoraAdapter } from './lora.ts';
import type { LoraConfig } from './lora-config.ts';
import {
  adapterFromPeftTensors,
  parsePeftConfig,
  peftConfigJson,
  peftConfigKey,
  peftTensors,
} from '../checkpoints/peft.ts';
import type { PolicySession } from '../generation/policy-session.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from '../checkpoints/safetensors.ts';

/**
 * What the stages need of a trained policy, whether it owns all its weights (a PolicySession:
 * full fine-tuning of the tiny model) or is a LoRA adapter on one shared frozen base (an
 * AdapterPolicy: a real model).
 */
export interface TrainedPolicy {
  readonly id: string;
  readonly config: PolicySession['config'];
  readonly tokenizer: PolicySession['tokenizer'];
  readonly eos: number[];
  /** The model on the active backend (built, or rebuilt after a backend switch, when needed). */
  current(): LlamaModel;
  /** A new policy with a copy of this one's trained weights. */
  copy(id: string): TrainedPolicy;
  /** Reads the trained weights back from the backend, so a rebuild or a checkpoint has them. */
  syncFromModel(): Promise<void>;
  /** The trained weights as a safetensors file (the checkpoint a run keeps). */
  safetensors(metadata?: Record<string, string>): Uint8Array;
  dispose(): void;
}

/**
 * A policy that is a LoRA adapter on a frozen base: the base's weights load once and are
 * shared by every adapter; only the adapter's A and B matrices train. Like PolicySession it
 * keeps its weights as plain arrays (by PEFT's tensor names) and rebuilds the adapter on a
 * new backend, so a lost GPU device loses no training. Its checkpoint is PEFT's
 * adapter_model.safetensors, with adapter_config.json in the metadata.
 */
export class AdapterPolicy implements TrainedPolicy {
  private adapter: LoraAdapter | null = null;
  private builtOn: string | null = null;

  private constructor(
    readonly id: string,
    readonly base: PolicySession,
    readonly settings: LoraConfig,
    private arrays: Map<string, NamedArray>,
  ) {
    if (!base.frozen) throw new Error('A LoRA policy needs a frozen base.');
  }

  get config() {
    return this.base.config;
  }
  get tokenizer() {
    return this.base.tokenizer;
  }
  get eos() {
    return this.base.eos;
  }

  /** A new adapter (A kaiming-uniform, B zero: at first the policy is its base). */
  static async init(
    id: string,
    base: PolicySession,
    settings: LoraConfig,
    seed: number,
  ): Promise<AdapterPolicy> {
    const adapter = LoraAdapter.init(base.config, settings, seed);
    try {
      return new AdapterPolicy(id, base, settings, await peftTensors(adapter));
    } finally {
      adapter.dispose();
    }
  }

  /** A policy from its checkpoint (`safetensors()`); one that does not fit the base throws. */
  static fromCheckpoint(id: string, base: PolicySession, bytes: Uint8Array): AdapterPolicy {
    const { tensors, metadata } = readSafetensors(bytes);
    const json = metadata[peftConfigKey];
    if (!json)
      throw new Error(
        'This checkpoint is not a LoRA adapter (it has no adapter_config in its metadata), but the experiment trains LoRA adapters.',
      );
    const policy = new AdapterPolicy(id, base, parsePeftConfig(json), tensors);
    policy.current(); // builds the adapter now, so a wrong shape throws here
    return policy;
  }

  /** The adapter on the active backend. */
  private built(): LoraAdapter {
    const backend = tf.getBackend();
    if (this.adapter && this.builtOn === backend) return this.adapter;
    this.adapter?.dispose();
    this.adapter = adapterFromPeftTensors(this.config, this.settings, this.arrays);
    this.builtOn = backend;
    return this.adapter;
  }

  current(): LlamaModel {
    return this.base.current().adapted(this.built());
  }

  /** The adapter itself (e.g. to start the reward model's from it, or to switch dropout on). */
  currentAdapter(): LoraAdapter {
    return this.built();
  }

  copy(id: string): AdapterPolicy {
    const arrays = new Map<string, NamedArray>();
    for (const [name, t] of this.arrays)
      arrays.set(name, { shape: [...t.shape], data: t.data.slice() });
    return new AdapterPolicy(id, this.base, this.settings, arrays);
  }

  async syncFromModel(): Promise<void> {
    if (this.adapter) this.arrays = await peftTensors(this.adapter);
  }

  /** PEFT's adapter_config.json for this adapter. */
  peftConfig(): string {
    return peftConfigJson(this.settings, this.base.id);
  }

  safetensors(metadata: Record<string, string> = {}): Uint8Array {
    return writeSafetensors(this.arrays, {
      ...metadata,
      format: 'pt',
      [peftConfigKey]: this.peftConfig(),
    });
  }

  /**
   * The policy as one model: every targeted weight W + scale · B A, the rest the base's, as a
   * safetensors file by HF's names (what transformers loads without PEFT). It holds a float32
   * copy of the whole model in memory, so the caller checks it fits first (`mergedBytes`).
   */
  async mergedSafetensors(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const model = this.base.current();
    const adapter = this.built();
    const arrays = new Map<string, NamedArray>();
    for (const [name, weight] of model.params) {
      const path = name.replace(/\.weight$/, '');
      const merged = adapter.pairs.has(path) ? adapter.merged(path, weight as tf.Tensor2D) : null;
      const data = (await (merged ?? weight).data()) as Float32Array;
      merged?.dispose();
      arrays.set(name, { shape: weight.shape, data });
    }
    return writeSafetensors(arrays, { ...metadata, format: 'pt' });
  }

  dispose(): void {
    this.adapter?.dispose();
    this.adapter = null;
  }
}

/** Bytes a merged export holds at once (the float32 copy and the file), to check first. */
export const mergedBytes = (parameters: number): number => 2 * 4 * parameters;
