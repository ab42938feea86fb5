/**
 * An independent float64 forward pass of Llama, Qwen2 and Qwen3 causal LMs, written from the
 * published math (HF's modeling_llama / modeling_qwen2 / modeling_qwen3), one row and one
 * position at a time with plain arrays: nothing here shares code with src/lib/model.
 */

export interface RefConfig {
  type: 'llama' | 'qwen2' | 'qwen3';
  vocab: number;
  d: number;
  inter: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  theta: number;
  tied: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  rope?: {
    type: 'linear' | 'llama3' | 'dynamic';
    factor: number;
    low?: number;
    high?: number;
    original?: number;
  };
}

export type RefWeights = Map<string, number[]>;

const dot = (a: number[], b: number[], offset = 0) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[offset + i]!;
  return s;
};

/** y = W x (+ b) for W stored [out, in] row-major. */
function matvec(w: number[], x: number[], out: number, b?: number[]): number[] {
  return Array.from({ length: out }, (_, o) => dot(x, w, o * x.length) + (b ? b[o]! : 0));
}

function rms(x: number[], w: number[], eps: number): number[] {
  const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(ms + eps)) * w[i]!);
}

/** Inverse frequencies per HF's rope init functions. */
export function refFrequencies(c: RefConfig): number[] {
  const base = Array.from(
    { length: c.headDim / 2 },
    (_, i) => 1 / c.theta ** ((2 * i) / c.headDim),
  );
  const r = c.rope;
  if (!r || r.type === 'dynamic') return base; // dynamic only differs past the trained context
  if (r.type === 'linear') return base.map((f) => f / r.factor);
  const lowWave = r.original! / r.low!;
  const highWave = r.original! / r.high!;
  return base.map((f) => {
    const wave = (2 * Math.PI) / f;
    const scaled = wave > lowWave ? f / r.factor : f;
    const medium = !(wave < highWave) && !(wave > lowWave);
    if (!medium) return scaled;
    const smooth = (r.original! / wave - r.low!) / (r.high! - r.low!);
    return ((1 - smooth) * scaled) / r.factor + smooth * scaled;
  });
}

function rotate(x: number[], pos: number, freqs: number[]): number[] {
  const half = x.length / 2;
  const out = new Array<number>(x.length);
  for (let i = 0; i < half; i++) {
    const a = pos * freqs[i]!;
    out[i] = x[i]! * Math.cos(a) - x[i + half]! * Math.sin(a);
    out[i + half] = x[i + half]! * Math.cos(a) + x[i]! * Math.sin(a);
  }
  return out;
}

/** Logits [T][V] of one left-padded row (positions count real tokens only). */
export function refRowLogits(
  c: RefConfig,
  w: RefWeights,
  ids: number[],
  mask: number[],
): number[][] {
  const g = (name: string) => {
    const v = w.get(name);
    if (!v) throw new Error(`reference: no ${name}`);
    return v;
  };
  const has = (name: string) => w.has(name);
  const freqs = refFrequencies(c);
  const positions: number[] = [];
  let seen = -1;
  for (const m of mask) positions.push(m ? ++seen : 0);
  const T = ids.length;
  const emb = g('model.embed_tokens.weight');
  let h = ids.map((id) => emb.slice(id * c.d, (id + 1) * c.d));
  const groups = c.heads / c.kvHeads;
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    const bias = (n: string) => (has(p + n + '.bias') ? g(p + n + '.bias') : undefined);
    const qs: number[][][] = [];
    const ks: number[][][] = [];
    const vs: number[][][] = [];
    for (let t = 0; t < T; t++) {
      const x = rms(h[t]!, g(p + 'input_layernorm.weight'), c.eps);
      const q = matvec(
        g(p + 'self_attn.q_proj.weight'),
        x,
        c.heads * c.headDim,
        bias('self_attn.q_proj'),
      );
      const k = matvec(
        g(p + 'self_attn.k_proj.weight'),
        x,
        c.kvHeads * c.headDim,
        bias('self_attn.k_proj'),
      );
      const v = matvec(
        g(p + 'self_attn.v_proj.weight'),
        x,
        c.kvHeads * c.headDim,
        bias('self_attn.v_proj'),
      );
      const split = (a: number[], n: number) =>
        Array.from({ length: n }, (_, i) => a.slice(i * c.headDim, (i + 1) * c.headDim));
      let qh = split(q, c.heads);
      let kh = split(k, c.kvHeads);
      if (c.type === 'qwen3') {
        qh = qh.map((a) => rms(a, g(p + 'self_attn.q_norm.weight'), c.eps));
        kh = kh.map((a) => rms(a, g(p + 'self_attn.k_norm.weight'), c.eps));
      }
      qs.push(qh.map((a) => rotate(a, positions[t]!, freqs)));
      ks.push(kh.map((a) => rotate(a, positions[t]!, freqs)));
      vs.push(split(v, c.kvHeads));
    }
    const next: number[][] = [];
    for (let t = 0; t < T; t++) {
      const merged: number[] = [];
      for (let hq = 0; hq < c.heads; hq++) {
        const kv = Math.floor(hq / groups);
        const visible = Array.from({ length: t + 1 }, (_, s) => s).filter((s) => mask[s]);
        const scores = visible.map((s) => dot(qs[t]![hq]!, ks[s]![kv]!) / Math.sqrt(c.headDim));
        const top = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - top));
        const z = e.reduce((a, b) => a + b, 0);
        const out = new Array<number>(c.headDim).fill(0);
        visible.forEach((s, j) => vs[s]![kv]!.forEach((val, i) => (out[i]! += (e[j]! / z) * val)));
        merged.push(...out);
      }
      const o = matvec(g(p + 'self_attn.o_proj.weight'), merged, c.d, bias('self_attn.o_proj'));
      const h1 = h[t]!.map((v, i) => v + o[i]!);
      const x2 = rms(h1, g(p + 'post_attention_layernorm.weight'), c.eps);
      const gate = matvec(g(p + 'mlp.gate_proj.weight'), x2, c.inter, bias('mlp.gate_proj'));
      const up = matvec(g(p + 'mlp.up_proj.weight'), x2, c.inter, bias('mlp.up_proj'));
      const act = gate.map((v, i) => (v / (1 + Math.exp(-v))) * up[i]!);
      const down = matvec(g(p + 'mlp.down_proj.weight'), act, c.d, bias('mlp.down_proj'));
      next.push(h1.map((v, i) => v + down[i]!));
    }
    h = next;
  }
  const head = c.tied ? emb : g('lm_head.weight');
  return h.map((x) => matvec(head, rms(x, g('model.norm.weight'), c.eps), c.vocab));
}

/** Weight names and shapes of the reference's architecture (HF layout, [out, in]). */
export function refShapes(c: RefConfig): Map<string, number[]> {
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const s = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab, c.d]]]);
  const attnBias =
    c.type === 'qwen2' ? ['q', 'k', 'v'] : c.attentionBias ? ['q', 'k', 'v', 'o'] : [];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    s.set(p + 'input_layernorm.weight', [c.d]);
    s.set(p + 'post_attention_layernorm.weight', [c.d]);
    const lin: [string, number, number][] = [
      ['self_attn.q_proj', q, c.d],
      ['self_attn.k_proj', kv, c.d],
      ['self_attn.v_proj', kv, c.d],
      ['self_attn.o_proj', c.d, q],
      ['mlp.gate_proj', c.inter, c.d],
      ['mlp.up_proj', c.inter, c.d],
      ['mlp.down_proj', c.d, c.inter],
    ];
    for (const [n, out, inp] of lin) {
      s.set(`${p}${n}.weight`, [out, inp]);
      const letter = n.split('.')[1]![0]!;
      if (n.startsWith('self_attn') && attnBias.includes(letter)) s.set(`${p}${n}.bias`, [out]);
      if (n.startsWith('mlp') && c.mlpBias && c.type === 'llama') s.set(`${p}${n}.bias`, [out]);
    }
    if (c.type === 'qwen3') {
      s.set(p + 'self_attn.q_norm.weight', [c.headDim]);
      s.set(p + 'self_attn.k_norm.weight', [c.headDim]);
    }
  }
  s.set('model.norm.weight', [c.d]);
  if (!c.tied) s.set('lm_head.weight', [c.vocab, c.d]);
  return s;
}
