import * as tf from '@tensorflow/tfjs-core';
import { describeError } from '../../domain/errors.ts';
import { readConfig, readJson, readWeights, type FileSource } from '../checkpoints/checkpoint.ts';
import { eosIds, type ModelConfig } from '../architecture/config.ts';
import { parameterCount } from '../architecture/parameters.ts';
import { LlamaModel } from '../architecture/llama.ts';
import { urlSource } from '../checkpoints/load.ts';
import { tokenizerFromFiles, type PolicyTokenizer } from '../../tokenizer/hf-tokenizer.ts';
import { readSafetensors, writeSafetensors, type NamedArray } from '../checkpoints/safetensors.ts';

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
    /** End-of-turn ids: config.json's and generation_config.json's. */
    readonly eos: number[] = eosIds(config),
    /** A base under LoRA adapters: its weights never train (and no transposes are cached). */
    readonly frozen = false,
  ) {}

  /** This session's weights (shared, not copied) as a trainable model (full fine-tuning). */
  source(): PolicySession {
    if (!this.frozen) return this;
    return new PolicySession(this.id, this.config, this.weights, this.tokenizer, this.eos);
  }

  /** This session's weights (shared, not copied) as a frozen base for LoRA adapters. */
  frozenBase(): PolicySession {
    if (this.frozen) return this;
    return new PolicySession(this.id, this.config, this.weights, this.tokenizer, this.eos, true);
  }

  /** The app's model folder (or any URL) at `baseUrl`, with a tokenizer already loaded. */
  static load(id: string, baseUrl: string, tokenizer: PolicyTokenizer): Promise<PolicySession> {
    const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
    return PolicySession.fromSource(id, urlSource(base, `the folder ${base}`), tokenizer);
  }

  /**
   * A checkpoint from any source (single or sharded safetensors; F32, BF16 or F16 read as
   * float32), with its own tokenizer files unless one is given.
   */
  static async fromSource(
    id: string,
    source: FileSource,
    tokenizer?: PolicyTokenizer,
  ): Promise<PolicySession> {
    const json = (file: string) => readJson(source, file);
    const config = await readConfig(source);
    const weights = new Map<string, NamedArray>();
    await readWeights(source, config, (name, shape, data) => weights.set(name, { shape, data }));
    if (!tokenizer) {
      const [files, settings] = [await json('tokenizer.json'), await json('tokenizer_config.json')];
      if (!files || !settings)
        throw new Error(`${source.label} has no tokenizer.json and tokenizer_config.json.`);
      try {
        tokenizer = tokenizerFromFiles(files, settings);
      } catch (error) {
        throw new Error(
          `tokenizer.json and tokenizer_config.json of ${source.label} do not make a tokenizer: ${describeError(error)}`,
        );
      }
    }
    const generation = await json('generation_config.json');
    const extra = generation?.eos_token_id;
    const eos = [
      ...new Set([
        ...eosIds(config),
        ...(Array.isArray(extra) ? extra : extra == null ? [] : [extra]),
      ]),
    ].filter((e): e is number => typeof e === 'number');
    return new PolicySession(id, config, weights, tokenizer, eos);
  }

  /** The architecture of the model folder at `base` (ending in /), weights not read. */
  static readConfig(base: string): Promise<ModelConfig> {
    return readConfig(urlSource(base, `the folder ${base}`));
  }

  get parameters(): number {
    return parameterCount(this.config);
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
      this.model = new LlamaModel(this.config, tensors, this.frozen);
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
    return new PolicySession(id, this.config, weights, this.tokenizer, this.eos);
  }

  /** A session with this one's config and tokenizer and a checkpoint's weights (a trained
   * policy of this base); a checkpoint that does not fit the config throws. */
  withCheckpoint(id: string, bytes: Uint8Array): PolicySession {
    const { tensors } = readSafetensors(bytes);
    const session = new PolicySession(id, this.config, tensors, this.tokenizer, this.eos);
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
