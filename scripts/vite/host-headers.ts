import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Plugin } from 'vite';
import { securityHeaders } from './security-headers.ts';

/**
 * The app's security headers (security-headers.ts, the one list) for static hosts, which
 * do not run Vite: `_headers` (Netlify, Cloudflare Pages) and an nginx snippet. COOP and COEP
 * are what makes the page cross-origin isolated, so the WASM runtimes can use threads; a host
 * that cannot send headers (GitHub Pages) still runs the app, single-threaded and without its
 * CSP.
 */
export function hostHeaderFiles(headers: Record<string, string> = securityHeaders): {
  _headers: string;
  'nginx-headers.conf': string;
} {
  const entries = Object.entries(headers);
  return {
    _headers: `/*\n${entries.map(([name, value]) => `  ${name}: ${value}\n`).join('')}`,
    'nginx-headers.conf':
      '# CAI Playground: include inside the server (or location) block that serves dist/.\n' +
      entries.map(([name, value]) => `add_header ${name} "${value}" always;\n`).join(''),
  };
}

/** Writes the host header files into the build's output folder. */
export function writeHostHeaders(): Plugin {
  let outDir: string | null = null;
  return {
    name: 'cai-host-headers',
    configResolved(config) {
      // Only a real build writes them: dev servers also call closeBundle on close.
      if (config.command === 'build') outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      if (!outDir) return;
      for (const [file, text] of Object.entries(hostHeaderFiles()))
        writeFileSync(join(outDir, file), text);
    },
  };
}
