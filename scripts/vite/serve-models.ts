import { createReadStream, existsSync, statSync, cpSync } from 'node:fs';
import { join, normalize, resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';

/** Content types for the files of a Hugging Face model folder. */
const contentTypes: Record<string, string> = {
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return contentTypes[dot >= 0 ? path.slice(dot) : ''] ?? 'application/octet-stream';
}

/**
 * Serves the repository's `models/` folder at `/models/` in dev, and copies it into the build
 * so that the preview server and any static host serve it too. The shipped models live at the
 * top level (not in `public/`) because scripts write them and tests read them from there.
 */
export function serveModels(modelsDir: string): Plugin {
  const root = resolve(modelsDir);
  let outDir: string | null = null;
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = req.url?.split('?')[0] ?? '';
    if (!url.startsWith('/models/')) return next();
    const file = normalize(join(root, decodeURIComponent(url.slice('/models/'.length))));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile())
      return next();
    res.setHeader('Content-Type', contentType(file));
    res.setHeader('Content-Length', statSync(file).size);
    createReadStream(file).pipe(res);
  };
  return {
    name: 'cai-serve-models',
    configResolved(config) {
      // Only a real build copies: dev servers (and vitest's) also call closeBundle on close.
      if (config.command === 'build') outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    closeBundle() {
      if (outDir && existsSync(root)) cpSync(root, join(outDir, 'models'), { recursive: true });
    },
  };
}
