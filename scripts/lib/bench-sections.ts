import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A part of `npm run bench` that runs alone (`--only kernels`, `--only methods`) writes its own
 * section of BENCHMARKS.md between two markers, leaving the rest of the file as it was.
 */
export function markers(part: string): { start: string; end: string } {
  return {
    start: `<!-- ${part}: written by npm run bench -- --only ${part} -->`,
    end: `<!-- /${part} -->`,
  };
}

/** Replaces the part's section of BENCHMARKS.md (or adds it before the optimizations). */
export function writeSection(part: string, section: string): void {
  const { start: open, end: close } = markers(part);
  const text = readFileSync('BENCHMARKS.md', 'utf8');
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + close.length)
      : text.replace(
          '## Optimizations, before and after',
          `${section}\n\n## Optimizations, before and after`,
        );
  writeFileSync('BENCHMARKS.md', next);
}
