import * as tf from '@tensorflow/tfjs-core';
import { parameterCount, parseModelConfig, eosIds, type ModelConfig } from './config.ts';
import { LlamaModel } from './llama.ts';
import { fetchBytes } from './load.ts';
import type { PolicyTokenizer } from '../tokenizer/hf-tokenizer.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors.ts';

/**
 * The policy model held by the engine worker: its tokenizer, its weights as plain arrays, and
 * the tfjs model built from them on the active backend. If the backend changes (after a GPU
 * device loss), the model is rebuilt there from the arrays, so no work is lost.
 */
export class PolicySession {
  private model: LlamaModel | null = null;
  private builtOn: string | null = null;

  private constructor(
    readonly id: string,
    readonly config: ModelConfig,
    private readonly weights: Map<string, NamedArray>,
    readonly tokenizer: PolicyTokenizer,
  ) {}

  static async load(
    id: string,
    baseUrl: string,
    tokenizer: PolicyTokenizer,
  ): Promise<PolicySession> {
    const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
    const config = await PolicySession.readConfig(base);
    const { tensors } = readSafetensors(await fetchBytes(base + 'model.safetensors'));
    return new PolicySession(id, config, tensors, tokenizer);
  }

  /** The architecture of the model folder at `base` (ending in /), weights not read. */
  static async readConfig(base: string): Promise<ModelConfig> {
    return parseModelConfig(
      JSON.parse(new TextDecoder().decode(await fetchBytes(base + 'config.json'))),
    );
  }

  get parameters(): number {
    return parameterCount(this.config);
  }

  get eos(): number[] {
    return eosIds(this.config);
  }

  /** The model on the active backend, built (or rebuilt) when needed. */
  current(): LlamaModel {
    const backend = tf.getBackend();
    if (this.model && this.builtOn === backend) return this.model;
    this.model?.dispose();
    const tensors = new Map(
      [...this.weights].map(([n, t]) => [n, tf.tensor(t.data, t.shape, 'float32')] as const),
    );
    try {
      this.model = new LlamaModel(this.config, tensors);
    } finally {
      tf.dispose([...tensors.values()]);
    }
    this.builtOn = backend;
    return this.model;
  }

  /** A new session with a copy of this one's weights (e.g. the policy to fine-tune). */
  copy(id: string): PolicySession {
    const weights = new Map<string, NamedArray>();
    for (const [name, t] of this.weights)
      weights.set(name, { shape: [...t.shape], data: t.data.slice() });
    return new PolicySession(id, this.config, weights, this.tokenizer);
  }

  /** A session with this one's config and tokenizer and a checkpoint's weights (a trained
   * policy of this base); a checkpoint that does not fit the config throws. */
  withCheckpoint(id: string, bytes: Uint8Array): PolicySession {
    const { tensors } = readSafetensors(bytes);
    const session = new PolicySession(id, this.config, tensors, this.tokenizer);
    session.current(); // builds the model now, so a wrong shape throws here
    return session;
  }

  /** Copies the trained weights back from the backend, so a rebuild or a checkpoint has them. */
  async syncFromModel(): Promise<void> {
    if (!this.model) return;
    // Read every weight first, then keep them all: a readback failing half-way (a lost GPU
    // device) leaves the stored weights as they were, not half trained.
    const read = new Map<string, NamedArray>();
    for (const [name, variable] of this.model.params)
      read.set(name, { shape: variable.shape, data: (await variable.data()) as Float32Array });
    for (const [name, array] of read) this.weights.set(name, array);
  }

  /** The weights as a safetensors file (the checkpoint format). */
  safetensors(metadata: Record<string, string> = {}): Uint8Array {
    return writeSafetensors(this.weights, metadata);
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
