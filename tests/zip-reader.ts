/**
 * Reads a ZIP archive of stored files, from its central directory, checking each file's CRC:
 * written from the format's specification (PKWARE APPNOTE 4.3), independently of
 * src/lib/util/zip.ts, so the tests of the writer and of exports can read what it wrote.
 */
import { crc32 } from '../src/lib/util/crc32.ts';

export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error('No end of central directory: not a ZIP archive.');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`Entry ${i}: bad header.`);
    if (view.getUint16(at + 10, true) !== 0) throw new Error(`Entry ${i}: not stored.`);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (view.getUint32(local, true) !== 0x04034b50) throw new Error(`${name}: bad local header.`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = bytes.slice(start, start + size);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch.`);
    files.set(name, data);
    at += 46 + nameLength + extra;
  }
  return files;
}
