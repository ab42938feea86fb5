import { byteToChar, bytesToText, preTokenize } from './byte-level.ts';

/**
 * A byte-level BPE tokenizer: training (from word counts), encoding and decoding. Its
 * vocabulary and merges are saved as a Hugging Face tokenizer.json (see hf-files.ts) that
 * transformers.js loads and encodes identically.
 */

export interface BpeModel {
  /** Special tokens first (ids 0..n-1), then the 256 byte characters, then one per merge. */
  vocab: string[];
  /** Merges in priority order, as [left, right] pairs. */
  merges: [string, string][];
  specialTokens: string[];
}

/** Learns `vocabSize - specials - 256` merges from the chunk counts of `texts`. */
export function trainBpe(
  texts: Iterable<string>,
  vocabSize: number,
  specialTokens: string[],
): BpeModel {
  const counts = new Map<string, number>();
  for (const text of texts)
    for (const piece of splitOnSpecials(text, specialTokens))
      if (!specialTokens.includes(piece))
        for (const chunk of preTokenize(piece)) counts.set(chunk, (counts.get(chunk) ?? 0) + 1);

  const words = [...counts].map(([w, n]) => ({ symbols: Array.from(w), n }));
  const vocab = [...specialTokens, ...byteToChar];
  const merges: [string, string][] = [];
  while (vocab.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words)
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + '\u0000' + symbols[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    let best: string | null = null;
    let bestCount = 1; // a pair seen once is not worth a token
    for (const [key, n] of pairs)
      if (n > bestCount || (n === bestCount && best !== null && key < best))
        [best, bestCount] = [key, n];
    if (best === null) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    vocab.push(left + right);
    for (const word of words) word.symbols = applyMerge(word.symbols, left, right);
  }
  return { vocab, merges, specialTokens };
}

function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else out.push(symbols[i]!);
  }
  return out;
}

/** Splits text around special tokens, keeping them as pieces. */
export function splitOnSpecials(text: string, specialTokens: string[]): string[] {
  if (specialTokens.length === 0) return [text];
  const escaped = specialTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.split(new RegExp(`(${escaped.join('|')})`)).filter((p) => p.length > 0);
}

/** Encodes and decodes with a trained model. */
export class BpeTokenizer {
  private readonly ids: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(readonly model: BpeModel) {
    this.ids = new Map(model.vocab.map((t, i) => [t, i]));
    this.ranks = new Map(model.merges.map(([a, b], i) => [a + '\u0000' + b, i]));
  }

  get vocabSize(): number {
    return this.model.vocab.length;
  }

  idOf(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new Error(`Unknown token ${JSON.stringify(token)}`);
    return id;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const piece of splitOnSpecials(text, this.model.specialTokens)) {
      if (this.model.specialTokens.includes(piece)) out.push(this.idOf(piece));
      else for (const chunk of preTokenize(piece)) out.push(...this.encodeChunk(chunk));
    }
    return out;
  }

  decode(ids: number[], skipSpecial = false): string {
    let text = '';
    let spelled = '';
    for (const id of ids) {
      const token = this.model.vocab[id];
      if (token === undefined) throw new Error(`Unknown token id ${id}`);
      if (this.model.specialTokens.includes(token)) {
        text += bytesToText(spelled);
        spelled = '';
        if (!skipSpecial) text += token;
      } else spelled += token;
    }
    return text + bytesToText(spelled);
  }

  /** Applies merges by rank (lowest first) to one pre-tokenised chunk. */
  private encodeChunk(chunk: string): number[] {
    const cached = this.cache.get(chunk);
    if (cached) return cached;
    let symbols = Array.from(chunk);
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(symbols[i] + '\u0000' + symbols[i + 1]);
        if (rank !== undefined && rank < bestRank) [bestRank, bestAt] = [rank, i];
      }
      if (bestAt < 0) break;
      const [left, right] = this.model.merges[bestRank]!;
      symbols = applyMerge(symbols, left, right);
    }
    const ids = symbols.map((s) => this.idOf(s));
    if (this.cache.size < 50_000) this.cache.set(chunk, ids);
    return ids;
  }
}
