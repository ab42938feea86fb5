import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../../ops/matmul.ts';
import type { ModelConfig } from '../architecture/config.ts';
import { targetModules, type LoraConfig, type LoraModule } from './lora-config.ts';

/**
 * LoRA (Hu et al. 2021) as PEFT applies it to a linear layer W [out, in]:
 *   y = x W^T + scale · dropout(x) A^T B^T,  A [r, in], B [out, r], scale = alpha / r
 * (alpha / sqrt(r) with rsLoRA). A starts kaiming-uniform (bound 1 / sqrt(in), PEFT's
 * `kaiming_uniform_(a=sqrt(5))`), B at zero, so a new adapter leaves the model unchanged.
 * The base weights never train: several adapters share one frozen base model.
 */

/** Numbers adapters, so variable names stay unique when several live together. */
let adapterCount = 0;

export interface LoraPair {
  a: tf.Variable; // [r, in]
  b: tf.Variable; // [out, r]
}

/** The shape [out, in] of each adaptable linear layer of one block, by PEFT module name. */
export function moduleShapes(c: ModelConfig): Record<LoraModule, [number, number]> {
  const d = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const m = c.intermediate_size;
  return {
    q_proj: [q, d],
    k_proj: [kv, d],
    v_proj: [kv, d],
    o_proj: [d, q],
    gate_proj: [m, d],
    up_proj: [m, d],
    down_proj: [d, m],
  };
}

/** HF's module path of a block's layer: "model.layers.3.self_attn.q_proj". */
export function modulePath(layer: number, module: LoraModule): string {
  const mlp = module === 'gate_proj' || module === 'up_proj' || module === 'down_proj';
  return `model.layers.${layer}.${mlp ? 'mlp' : 'self_attn'}.${module}`;
}

export class LoraAdapter {
  /** By HF module path. */
  readonly pairs: Map<string, LoraPair>;
  readonly scale: number;
  /** Dropout applies only while training (PEFT's module.train()). */
  training = false;
  private dropoutSeed = 0;

  constructor(
    readonly model: ModelConfig,
    readonly settings: LoraConfig,
    pairs: Map<string, { a: tf.Tensor; b: tf.Tensor }>,
  ) {
    const id = ++adapterCount;
    const r = settings.rank;
    this.scale = settings.alpha / (settings.rsLora ? Math.sqrt(r) : r);
    this.pairs = new Map();
    const shapes = moduleShapes(model);
    const expected = new Set<string>();
    for (let i = 0; i < model.num_hidden_layers; i++)
      for (const module of targetModules(settings)) {
        const path = modulePath(i, module);
        expected.add(path);
        const pair = pairs.get(path);
        if (!pair) throw new Error(`The LoRA adapter has no weights for ${path}.`);
        const [out, inp] = shapes[module];
        const check = (t: tf.Tensor, shape: number[], what: string) => {
          if (t.shape.join() !== shape.join())
            throw new Error(
              `The LoRA adapter's ${path}.${what} has shape [${t.shape}], expected [${shape}].`,
            );
        };
        check(pair.a, [r, inp], 'lora_A.weight');
        check(pair.b, [out, r], 'lora_B.weight');
        this.pairs.set(path, {
          a: tf.variable(pair.a, true, `lora${id}/${path}.lora_A`),
          b: tf.variable(pair.b, true, `lora${id}/${path}.lora_B`),
        });
      }
    for (const path of pairs.keys())
      if (!expected.has(path))
        throw new Error(
          `The LoRA adapter has weights for ${path}, which its settings do not target.`,
        );
  }

  /** A new adapter: A kaiming-uniform, B zero (the model's outputs are unchanged). */
  static init(model: ModelConfig, settings: LoraConfig, seed: number): LoraAdapter {
    const shapes = moduleShapes(model);
    const pairs = new Map<string, { a: tf.Tensor; b: tf.Tensor }>();
    let n = 0;
    for (let i = 0; i < model.num_hidden_layers; i++)
      for (const module of targetModules(settings)) {
        const [out, inp] = shapes[module];
        const bound = 1 / Math.sqrt(inp);
        pairs.set(modulePath(i, module), {
          a: tf.randomUniform([settings.rank, inp], -bound, bound, 'float32', seed + n++),
          b: tf.zeros([out, settings.rank]),
        });
      }
    const adapter = new LoraAdapter(model, settings, pairs);
    for (const p of pairs.values()) tf.dispose([p.a, p.b]);
    return adapter;
  }

  /** Whether the adapter updates the layer at `path`. */
  targets(path: string): boolean {
    return this.pairs.has(path);
  }

  /** The adapter's update to the layer at `path` for x [N, in]: [N, out], or null if untargeted. */
  delta(path: string, x: tf.Tensor2D): tf.Tensor2D | null {
    const pair = this.pairs.get(path);
    if (!pair) return null;
    const p = this.settings.dropout;
    const input = this.training && p > 0 ? tf.dropout(x, p, undefined, ++this.dropoutSeed) : x;
    const down = matMul(input as tf.Tensor2D, pair.a as tf.Tensor2D, false, true); // [N, r]
    const up = matMul(down, pair.b as tf.Tensor2D, false, true); // [N, out]
    return tf.mul(up, this.scale);
  }

  /** The A and B of each targeted layer by HF name ("<module path>.lora_A.weight"). */
  named(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [path, pair] of this.pairs) {
      out.set(`${path}.lora_A.weight`, pair.a);
      out.set(`${path}.lora_B.weight`, pair.b);
    }
    return out;
  }

  /** Every trainable tensor (the A and B of each targeted layer). */
  variables(): tf.Variable[] {
    return [...this.pairs.values()].flatMap((p) => [p.a, p.b]);
  }

  /** W + scale · B A for one layer's base weight W [out, in]. */
  merged(path: string, weight: tf.Tensor2D): tf.Tensor2D {
    const pair = this.pairs.get(path);
    if (!pair) return tf.clone(weight);
    return tf.tidy(() =>
      tf.add(weight, tf.mul(matMul(pair.b as tf.Tensor2D, pair.a as tf.Tensor2D), this.scale)),
    );
  }

  /** A copy with the same weights (the value adapter starts as the reward adapter, as TRL does). */
  copy(): LoraAdapter {
    const pairs = new Map([...this.pairs].map(([k, p]) => [k, { a: p.a, b: p.b }] as const));
    return new LoraAdapter(this.model, this.settings, pairs);
  }

  dispose(): void {
    tf.dispose(this.variables());
  }
}
