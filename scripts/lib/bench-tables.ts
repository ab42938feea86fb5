/** `npm run bench`'s Markdown tables of the matmul bench and the backend probes. */
import type {
  BackendName,
  CandidateReport,
  MatmulBenchResult,
} from '../../src/lib/domain/backend.ts';

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function matmulTable(
  result: MatmulBenchResult,
  backends: BackendName[],
  sizes: number[],
): string {
  const rows = backends.map((backend) => [
    backend,
    ...sizes.map((size) => {
      const row = result.rows.find((r) => r.backend === backend && r.size === size);
      return row ? `${row.gflops.toFixed(2)} (${row.medianMs.toFixed(1)} ms)` : 'n/a';
    }),
  ]);
  return table(['backend', ...sizes.map((s) => `${s}² GFLOP/s (median)`)], rows);
}

export function probeTable(probes: CandidateReport[]): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
  const rows = probes.map((p) => [
    p.backend,
    ms(p.matmulMs),
    ms(p.trainStepMs),
    p.maxRelError === null ? 'n/a' : p.maxRelError.toExponential(1),
    ms(p.probeMs),
  ]);
  return table(
    ['backend', 'matmul 256² ms', 'Adam step ms', 'error vs float64', 'whole probe ms'],
    rows,
  );
}
