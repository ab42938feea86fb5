import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { FileSource } from '../../src/lib/model/checkpoints/checkpoint.ts';

/** A checkpoint folder on disk as a source of files (a missing file is null). */
export function folderSource(dir: string): FileSource {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new Error(`There is no folder ${root}.`);
  /** The file at `path`, refused when it would lie outside the folder. */
  const inside = (path: string) => {
    const file = resolve(root, path);
    if (!file.startsWith(root + sep))
      throw new Error(`"${path}" lies outside the folder ${root}; it is not read.`);
    return file;
  };
  return {
    label: `the folder ${root}`,
    async read(path) {
      const file = inside(path);
      return existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
    },
    async length(path) {
      const file = inside(path);
      return existsSync(file) ? statSync(file).size : null;
    },
    async readRange(path, start, end) {
      const file = inside(path);
      if (!existsSync(file)) throw new Error(`The folder ${root} has no ${path}.`);
      const fd = openSync(file, 'r');
      try {
        const out = new Uint8Array(end - start);
        const read = readSync(fd, out, 0, out.length, start);
        return out.subarray(0, read);
      } finally {
        closeSync(fd);
      }
    },
  };
}
