import { formatMs as formatChoiceMs } from '../../backend/choose.ts';
import type { AdapterInfo, BackendName, BackendReport } from '../../domain/backend.ts';

/** Display names of the backends, as students meet them in docs. */
export const backendLabel: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  wasm: 'WASM',
  cpu: 'CPU (JavaScript)',
};

export function adapterLabel(adapter: AdapterInfo | null): string {
  if (!adapter) return 'no WebGPU adapter';
  const name =
    [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') ||
    adapter.description ||
    'unnamed adapter';
  return adapter.isFallbackAdapter ? `${name} (software)` : name;
}

/** The badge's one line: what runs, and on what. */
export function badgeText(report: BackendReport): string {
  const threads =
    report.backend === 'wasm' && report.wasmThreads ? ` · ${report.wasmThreads} threads` : '';
  const where = report.backend === 'webgpu' ? ` · ${adapterLabel(report.adapter)}` : threads;
  return `${backendLabel[report.backend]}${where}`;
}

/** Milliseconds as the backend choice words them, or a dash when not measured. */
export function formatMs(ms: number | null): string {
  return ms === null ? '–' : formatChoiceMs(ms);
}

export function formatSci(value: number | null): string {
  return value === null ? '–' : value.toExponential(1);
}

/** The badge's short "why": what decided the backend, in a few words. */
export function badgeWhy(report: BackendReport): string {
  if (report.fallbackFrom) return `${backendLabel[report.fallbackFrom.backend]} failed at run time`;
  if (report.mode === 'forced') return `forced by ?backend=${report.backend}`;
  if (report.backend === 'webgpu') return 'fastest correct backend';
  const gpu = report.candidates.find((c) => c.backend === 'webgpu');
  if (!gpu || !gpu.available) return 'no WebGPU adapter here';
  if (report.adapter?.isFallbackAdapter) return 'WebGPU adapter is a software fallback';
  if (gpu.correct === false) return 'WebGPU gave wrong results';
  return `WebGPU was slower than ${backendLabel[report.backend]}`;
}
