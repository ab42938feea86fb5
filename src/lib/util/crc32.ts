/** CRC-32 (IEEE 802.3, as zlib and PNG compute it). A leaf module: it imports nothing. */

const table = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** The CRC-32 of some bytes, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of a text's UTF-8 bytes, as 8 lower-case hex digits. */
export const crc32Hex = (text: string): string =>
  crc32(new TextEncoder().encode(text)).toString(16).padStart(8, '0');
