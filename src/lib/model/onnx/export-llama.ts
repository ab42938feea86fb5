import type { LlamaConfig } from '../config.ts';
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

function ropeTable(c: LlamaConfig, fn: (x: number) => number): Float32Array {
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

export function exportLlamaOnnx(c: LlamaConfig, weights: Map<string, NamedArray>): Uint8Array {
  const {
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: hd,
  } = c;
  const past = (i: number, kind: 'key' | 'value') => ({
    name: `past_key_values.${i}.${kind}`,
    elemType: DataType.FLOAT,
    dims: ['batch_size', kvHeads, 'past_sequence_length', hd],
  });
  const present = (i: number, kind: 'key' | 'value') => ({
    name: `present.${i}.${kind}`,
    elemType: DataType.FLOAT,
    dims: ['batch_size', kvHeads, 'total_sequence_length', hd],
  });
  const range = Array.from({ length: layers }, (_, i) => i);
  const g = new OnnxGraph(
    [
      { name: 'input_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      {
        name: 'attention_mask',
        elemType: DataType.INT64,
        dims: ['batch_size', 'total_sequence_length'],
      },
      { name: 'position_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] },
      ...range.flatMap((i) => [past(i, 'key'), past(i, 'value')]),
    ],
    [
      {
        name: 'logits',
        elemType: DataType.FLOAT,
        dims: ['batch_size', 'sequence_length', c.vocab_size],
      },
      ...range.flatMap((i) => [present(i, 'key'), present(i, 'value')]),
    ],
  );
  const w = (name: string): NamedArray => {
    const t = weights.get(name);
    if (!t) throw new Error(`Missing weight "${name}".`);
    return t;
  };
  /** A linear layer's weight, stored [in, out] so the graph needs no Transpose. */
  const linearWeight = (name: string) => {
    const t = w(name);
    return g.floats(name, [t.shape[1]!, t.shape[0]!], transpose(t.data, t.shape[0]!, t.shape[1]!));
  };
  const made = new Set<string>();
  /** An int64 constant, created once per name. */
  const ints = (name: string, values: number[], scalar = false) => {
    if (!made.has(name)) g.int64s(name, scalar ? [] : [values.length], values);
    made.add(name);
    return name;
  };
  const zeroF = g.floats('zero_f', [], Float32Array.of(0));
  const negInf = g.floats('masked_f', [], Float32Array.of(-1e9));
  const eps = g.floats('rms_eps', [], Float32Array.of(c.rms_norm_eps));
  const scale = g.floats('attn_scale', [], Float32Array.of(1 / Math.sqrt(hd)));
  const cos = g.floats('rope_cos', [c.max_position_embeddings, hd], ropeTable(c, Math.cos));
  const sin = g.floats('rope_sin', [c.max_position_embeddings, hd], ropeTable(c, Math.sin));
  const axis1 = ints('axes_1', [1]);

  // Mask: query t (absolute position past + t) sees key s when s <= past + t and s is not padding.
  const one = ints('one', [1], true);
  const zero = ints('zero', [0], true);
  const newLen = g.node('Gather', [g.node('Shape', ['input_ids']), one]);
  const totalLen = g.node('Gather', [g.node('Shape', ['attention_mask']), one]);
  const queries = g.node('Range', [g.node('Sub', [totalLen, newLen]), totalLen, one]); // [T]
  const keys = g.node('Range', [zero, totalLen, one]); // [S]
  const causal = g.node('LessOrEqual', [
    g.node('Unsqueeze', [keys, ints('axes_0', [0])]),
    g.node('Unsqueeze', [queries, axis1]),
  ]); // [T, S]
  const notPad = g.node('Unsqueeze', [
    g.node('Cast', ['attention_mask'], [{ name: 'to', i: DataType.BOOL }]),
    ints('axes_12', [1, 2]),
  ]); // [B, 1, 1, S]
  const bias = g.node('Where', [g.node('And', [causal, notPad]), zeroF, negInf]); // [B, 1, T, S]

  const cosB = g.node('Unsqueeze', [g.node('Gather', [cos, 'position_ids']), axis1]); // [B, 1, T, hd]
  const sinB = g.node('Unsqueeze', [g.node('Gather', [sin, 'position_ids']), axis1]);
  const half = [
    ints('half_start', [0]),
    ints('half_mid', [hd / 2]),
    ints('half_end', [hd]),
    ints('axes_3', [3]),
  ];
  const rope = (x: string) => {
    const x1 = g.node('Slice', [x, half[0]!, half[1]!, half[3]!]);
    const x2 = g.node('Slice', [x, half[1]!, half[2]!, half[3]!]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], [{ name: 'axis', i: 3 }]);
    return g.node('Add', [g.node('Mul', [x, cosB]), g.node('Mul', [rotated, sinB])]);
  };
  const rmsNorm = (x: string, weight: string) => {
    const meanSquare = g.node(
      'ReduceMean',
      [g.node('Mul', [x, x])],
      [
        { name: 'axes', ints: [-1] },
        { name: 'keepdims', i: 1 },
      ],
    );
    const t = w(weight);
    return g.node('Mul', [
      g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, eps])])]),
      g.floats(weight, t.shape, t.data),
    ]);
  };
  const toHeads = (x: string, n: number) =>
    g.node(
      'Transpose',
      [g.node('Reshape', [x, ints(`shape_heads_${n}`, [0, 0, n, hd])])],
      [{ name: 'perm', ints: [0, 2, 1, 3] }],
    );
  const repeatKv = (x: string) => {
    const groups = heads / kvHeads;
    if (groups === 1) return x;
    const parts: string[] = [];
    for (let j = 0; j < kvHeads; j++) {
      const head =
        kvHeads === 1
          ? x
          : g.node('Slice', [x, ints(`kv_${j}`, [j]), ints(`kv_${j + 1}`, [j + 1]), axis1]);
      for (let r = 0; r < groups; r++) parts.push(head);
    }
    return g.node('Concat', parts, [{ name: 'axis', i: 1 }]);
  };

  let h = g.node('Gather', [
    g.floats(
      'model.embed_tokens.weight',
      w('model.embed_tokens.weight').shape,
      w('model.embed_tokens.weight').data,
    ),
    'input_ids',
  ]); // [B, T, d]
  for (const i of range) {
    const p = `model.layers.${i}.`;
    const x = rmsNorm(h, p + 'input_layernorm.weight');
    const q = rope(
      toHeads(g.node('MatMul', [x, linearWeight(p + 'self_attn.q_proj.weight')]), heads),
    ); // [B, H, T, hd]
    const k = rope(
      toHeads(g.node('MatMul', [x, linearWeight(p + 'self_attn.k_proj.weight')]), kvHeads),
    ); // [B, kvH, T, hd]
    const v = toHeads(g.node('MatMul', [x, linearWeight(p + 'self_attn.v_proj.weight')]), kvHeads);
    const allK = g.node(
      'Concat',
      [`past_key_values.${i}.key`, k],
      [{ name: 'axis', i: 2 }],
      `present.${i}.key`,
    ); // [B, kvH, S, hd]
    const allV = g.node(
      'Concat',
      [`past_key_values.${i}.value`, v],
      [{ name: 'axis', i: 2 }],
      `present.${i}.value`,
    );
    const kT = g.node('Transpose', [repeatKv(allK)], [{ name: 'perm', ints: [0, 1, 3, 2] }]); // [B, H, hd, S]
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), scale]), bias]); // [B, H, T, S]
    const attended = g.node('MatMul', [
      g.node('Softmax', [scores], [{ name: 'axis', i: -1 }]),
      repeatKv(allV),
    ]); // [B, H, T, hd]
    const merged = g.node('Reshape', [
      g.node('Transpose', [attended], [{ name: 'perm', ints: [0, 2, 1, 3] }]),
      ints(`shape_merge_${i}`, [0, 0, heads * hd]),
    ]);
    h = g.node('Add', [h, g.node('MatMul', [merged, linearWeight(p + 'self_attn.o_proj.weight')])]);
    const y = rmsNorm(h, p + 'post_attention_layernorm.weight');
    const gate = g.node('MatMul', [y, linearWeight(p + 'mlp.gate_proj.weight')]);
    const up = g.node('MatMul', [y, linearWeight(p + 'mlp.up_proj.weight')]);
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])]), up]);
    h = g.node('Add', [h, g.node('MatMul', [act, linearWeight(p + 'mlp.down_proj.weight')])]);
  }
  const head = c.tie_word_embeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const headT = w(head);
  const outWeight = g.floats(
    'lm_head.weight.T',
    [headT.shape[1]!, headT.shape[0]!],
    transpose(headT.data, headT.shape[0]!, headT.shape[1]!),
  );
  g.node('MatMul', [rmsNorm(h, 'model.norm.weight'), outWeight], [], 'logits');
  return g.serialise(onnxOpset, 'cai-playground');
}
