/**
 * Byte-level pre-tokenisation as GPT-2 (and Hugging Face's `ByteLevel` pre-tokenizer) does
 * it: split text into word-like chunks with one regex, then spell each chunk's UTF-8 bytes
 * with printable characters, so every string has a spelling and nothing is unknown.
 */

/** GPT-2's split pattern, identical to transformers.js's ByteLevel pre-tokenizer. */
export const splitPattern =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Byte -> printable character: printable Latin-1 bytes map to themselves, the rest above 255. */
export const byteToChar: string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++)
    table[b] = String.fromCharCode(keep.includes(b) ? b : 256 + extra++);
  return table;
})();

export const charToByte = new Map(byteToChar.map((c, b) => [c, b]));

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Splits text into chunks and spells each in byte characters. */
export function preTokenize(text: string): string[] {
  return (text.match(splitPattern) ?? []).map((chunk) =>
    Array.from(encoder.encode(chunk), (b) => byteToChar[b]!).join(''),
  );
}

/** Turns byte-character spellings back into text. */
export function bytesToText(spelled: string): string {
  const bytes = Uint8Array.from(
    Array.from(spelled, (c) => {
      const b = charToByte.get(c);
      if (b === undefined) throw new Error(`Not a byte-level character: ${JSON.stringify(c)}`);
      return b;
    }),
  );
  return decoder.decode(bytes);
}
