import type { ModelConfig } from '../../architecture/config.ts';
import type { NamedArray } from '../safetensors.ts';
import { DataType, OnnxGraph } from './onnx-builder.ts';

/**
 * Exports a Llama checkpoint to ONNX in the layout transformers.js's text generation uses:
 * inputs `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{i}.key|value`;
 * outputs `logits`, `present.{i}.key|value`. The graph computes exactly what llama.ts
 * computes (same RoPE convention, same masking), so logits agree to float rounding.
 */

export const onnxOpset = 17;

/** Transposes a row-major [rows, cols] matrix. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function ropeTable(c: ModelConfig, fn: (x: number) => number): Float32Array {
  const hd = c.head_dim;
  const table = new Float32Array(c.max_position_embeddings * hd);
  for (let p = 0; p < c.max_position_embeddings; p++)
    for (let i = 0; i < hd / 2; i++) {
      const value = fn(p * c.rope_theta ** (-(2 * i) / hd));
      table[p * hd + i] = value;
      table[p * hd + i + hd / 2] = value;
    }
  return table;
}

const axis = (i: number) => [{ name: 'axis', i }];
const perm = (ints: number[]) => [{ name: 'perm', ints }];

/** The graph's inputs and outputs, in transformers.js's names. */
function graphIo(c: ModelConfig): ConstructorParameters<typeof OnnxGraph> {
  const cache = (prefix: string, i: number, kind: 'key' | 'value', length: string) => ({
    name: `${prefix}.${i}.${kind}`,
    elemType: DataType.FLOAT,
    dims: ['batch_size', c.num_key_value_heads, length, c.head_dim],
  });
  const layers = Array.from({ length: c.num_hidden_layers }, (_, i) => i);
  const caches = (prefix: string, length: string) =>
    layers.flatMap((i) => [cache(prefix, i, 'key', length), cache(prefix, i, 'value', length)]);
  return [
    [
      { name: 'input_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      {
        name: 'attention_mask',
        elemType: DataType.INT64,
        dims: ['batch_size', 'total_sequence_length'],
      },
      { name: 'position_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      ...caches('past_key_values', 'past_sequence_length'),
    ],
    [
      {
        name: 'logits',
        elemType: DataType.FLOAT,
        dims: ['batch_size', 'sequence_length', c.vocab_size],
      },
      ...caches('present', 'total_sequence_length'),
    ],
  ];
}

/** Writes one Llama graph: each part of the model is a method, in llama.ts's order. */
class LlamaOnnxWriter {
  readonly g: OnnxGraph;
  private readonly made = new Set<string>();
  private readonly eps: string;
  private readonly scale: string;
  private bias = '';
  private angles = { cos: '', sin: '' };

  constructor(
    private readonly c: ModelConfig,
    private readonly weights: Map<string, NamedArray>,
  ) {
    this.g = new OnnxGraph(...graphIo(c));
    this.eps = this.g.floats('rms_eps', [], Float32Array.of(c.rms_norm_eps));
    this.scale = this.g.floats('attn_scale', [], Float32Array.of(1 / Math.sqrt(c.head_dim)));
  }

  private w(name: string): NamedArray {
    const t = this.weights.get(name);
    if (!t) throw new Error(`Missing weight "${name}".`);
    return t;
  }

  /** A linear layer's weight, stored [in, out] so the graph needs no Transpose. */
  private linearWeight(name: string): string {
    const t = this.w(name);
    const [rows, cols] = [t.shape[0]!, t.shape[1]!];
    return this.g.floats(name, [cols, rows], transpose(t.data, rows, cols));
  }

  /** An int64 constant, created once per name. */
  private ints(name: string, values: number[], scalar = false): string {
    if (!this.made.has(name)) this.g.int64s(name, scalar ? [] : [values.length], values);
    this.made.add(name);
    return name;
  }

  /** Query t (absolute position past + t) sees key s when s <= past + t and s is not padding. */
  attentionBias(): void {
    const { g } = this;
    const zeroF = g.floats('zero_f', [], Float32Array.of(0));
    const negInf = g.floats('masked_f', [], Float32Array.of(-1e9));
    const one = this.ints('one', [1], true);
    const zero = this.ints('zero', [0], true);
    const newLen = g.node('Gather', [g.node('Shape', ['input_ids']), one]);
    const totalLen = g.node('Gather', [g.node('Shape', ['attention_mask']), one]);
    const queries = g.node('Range', [g.node('Sub', [totalLen, newLen]), totalLen, one]); // [T]
    const keys = g.node('Range', [zero, totalLen, one]); // [S]
    const causal = g.node('LessOrEqual', [
      g.node('Unsqueeze', [keys, this.ints('axes_0', [0])]),
      g.node('Unsqueeze', [queries, this.ints('axes_1', [1])]),
    ]); // [T, S]
    const notPad = g.node('Unsqueeze', [
      g.node('Cast', ['attention_mask'], [{ name: 'to', i: DataType.BOOL }]),
      this.ints('axes_12', [1, 2]),
    ]); // [B, 1, 1, S]
    this.bias = g.node('Where', [g.node('And', [causal, notPad]), zeroF, negInf]); // [B, 1, T, S]
  }

  /** cos and sin at each position, [B, 1, T, hd]. */
  ropeAngles(): void {
    const { g, c } = this;
    const table = (name: string, fn: (x: number) => number) => {
      const t = g.floats(name, [c.max_position_embeddings, c.head_dim], ropeTable(c, fn));
      return g.node('Unsqueeze', [g.node('Gather', [t, 'position_ids']), this.ints('axes_1', [1])]);
    };
    const cos = table('rope_cos', Math.cos);
    this.angles = { cos, sin: table('rope_sin', Math.sin) };
  }

  /** HF's rotate_half convention: x·cos + rotate_half(x)·sin. */
  private rope(x: string): string {
    const { g } = this;
    const hd = this.c.head_dim;
    const [start, mid, end, axes] = [
      this.ints('half_start', [0]),
      this.ints('half_mid', [hd / 2]),
      this.ints('half_end', [hd]),
      this.ints('axes_3', [3]),
    ];
    const x1 = g.node('Slice', [x, start, mid, axes]);
    const x2 = g.node('Slice', [x, mid, end, axes]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], axis(3));
    return g.node('Add', [
      g.node('Mul', [x, this.angles.cos]),
      g.node('Mul', [rotated, this.angles.sin]),
    ]);
  }

  rmsNorm(x: string, weight: string): string {
    const { g } = this;
    const meanSquare = g.node(
      'ReduceMean',
      [g.node('Mul', [x, x])],
      [
        { name: 'axes', ints: [-1] },
        { name: 'keepdims', i: 1 },
      ],
    );
    const t = this.w(weight);
    return g.node('Mul', [
      g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, this.eps])])]),
      g.floats(weight, t.shape, t.data),
    ]);
  }

  /** [B, T, n·hd] → [B, n, T, hd]. */
  private toHeads(x: string, n: number): string {
    const shape = this.ints(`shape_heads_${n}`, [0, 0, n, this.c.head_dim]);
    return this.g.node('Transpose', [this.g.node('Reshape', [x, shape])], perm([0, 2, 1, 3]));
  }

  /** Each key/value head repeated for the query heads that share it, [B, H, S, hd]. */
  private repeatKv(x: string): string {
    const kvHeads = this.c.num_key_value_heads;
    const groups = this.c.num_attention_heads / kvHeads;
    if (groups === 1) return x;
    const parts: string[] = [];
    for (let j = 0; j < kvHeads; j++) {
      const at = [this.ints(`kv_${j}`, [j]), this.ints(`kv_${j + 1}`, [j + 1])];
      const head = kvHeads === 1 ? x : this.g.node('Slice', [x, ...at, this.ints('axes_1', [1])]);
      for (let r = 0; r < groups; r++) parts.push(head);
    }
    return this.g.node('Concat', parts, axis(1));
  }

  /** Layer i's attention on normed x [B, T, d]; writes present.{i}.*; returns [B, T, d]. */
  attention(i: number, x: string): string {
    const { g, c } = this;
    const p = `model.layers.${i}.self_attn.`;
    const proj = (name: string) => g.node('MatMul', [x, this.linearWeight(`${p}${name}.weight`)]);
    const q = this.rope(this.toHeads(proj('q_proj'), c.num_attention_heads)); // [B, H, T, hd]
    const k = this.rope(this.toHeads(proj('k_proj'), c.num_key_value_heads)); // [B, kvH, T, hd]
    const v = this.toHeads(proj('v_proj'), c.num_key_value_heads);
    const cat = (kind: 'key' | 'value', now: string) =>
      g.node('Concat', [`past_key_values.${i}.${kind}`, now], axis(2), `present.${i}.${kind}`);
    const allK = cat('key', k); // [B, kvH, S, hd]
    const allV = cat('value', v);
    const kT = g.node('Transpose', [this.repeatKv(allK)], perm([0, 1, 3, 2])); // [B, H, hd, S]
    const scores = g.node('Add', [
      g.node('Mul', [g.node('MatMul', [q, kT]), this.scale]),
      this.bias,
    ]); // [B, H, T, S]
    const weights = g.node('Softmax', [scores], axis(-1));
    const attended = g.node('MatMul', [weights, this.repeatKv(allV)]); // [B, H, T, hd]
    const merged = g.node('Reshape', [
      g.node('Transpose', [attended], perm([0, 2, 1, 3])),
      this.ints(`shape_merge_${i}`, [0, 0, c.num_attention_heads * c.head_dim]),
    ]);
    return g.node('MatMul', [merged, this.linearWeight(`${p}o_proj.weight`)]);
  }

  /** Layer i's SwiGLU on normed y [B, T, d]. */
  mlp(i: number, y: string): string {
    const { g } = this;
    const proj = (name: string, x: string) =>
      g.node('MatMul', [x, this.linearWeight(`model.layers.${i}.mlp.${name}.weight`)]);
    const gate = proj('gate_proj', y);
    const act = g.node('Mul', [
      g.node('Mul', [gate, g.node('Sigmoid', [gate])]),
      proj('up_proj', y),
    ]);
    return proj('down_proj', act);
  }

  /** Token embeddings [B, T, d]. */
  embed(): string {
    const t = this.w('model.embed_tokens.weight');
    return this.g.node('Gather', [
      this.g.floats('model.embed_tokens.weight', t.shape, t.data),
      'input_ids',
    ]);
  }

  /** The final norm and the output head (tied or not), written as `logits`. */
  logits(h: string): void {
    const head = this.c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
    const t = this.w(head);
    const [rows, cols] = [t.shape[0]!, t.shape[1]!];
    const outWeight = this.g.floats(
      'lm_head.weight.T',
      [cols, rows],
      transpose(t.data, rows, cols),
    );
    this.g.node('MatMul', [this.rmsNorm(h, 'model.norm.weight'), outWeight], [], 'logits');
  }
}

export function exportLlamaOnnx(c: ModelConfig, weights: Map<string, NamedArray>): Uint8Array {
  // The graph writes plain Llama math only: say so rather than export a different model.
  if (c.model_type !== 'llama' || c.rope_scaling || c.attention_bias || c.mlp_bias)
    throw new Error(
      `The ONNX export writes plain Llama models (no biases, no rope_scaling); this one is ${c.architectures[0]}${c.rope_scaling ? ` with rope_scaling "${c.rope_scaling.rope_type}"` : ''}${c.attention_bias || c.mlp_bias ? ' with biases' : ''}.`,
    );
  const out = new LlamaOnnxWriter(c, weights);
  out.attentionBias();
  out.ropeAngles();
  let h = out.embed(); // [B, T, d]
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    h = out.g.node('Add', [h, out.attention(i, out.rmsNorm(h, p + 'input_layernorm.weight'))]);
    h = out.g.node('Add', [h, out.mlp(i, out.rmsNorm(h, p + 'post_attention_layernorm.weight'))]);
  }
  out.logits(h);
  return out.g.serialise(onnxOpset, 'cai-playground');
}
