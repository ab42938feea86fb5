/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1, for tests (which never touch the real
 * one): `/{owner}/{name}/resolve/{revision}/{file}` serves files of local folders, honouring
 * single Range requests (206 with Content-Range), with the CORS and CORP headers a
 * cross-origin-isolated page needs. It logs each request and can slow every answer down, so
 * a test can cancel a download half-way. Tests in other processes read the log at
 * `GET /__log` and set the delay with `POST /__delay?ms=N`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { freePort } from './serve.ts';

export interface HubRequest {
  file: string;
  range: string | null;
}

export interface StandInHub {
  url: string;
  /** Every request served, in order. */
  log: HubRequest[];
  /** Milliseconds each answer waits before it is sent. */
  delay: { ms: number };
  stop(): Promise<void>;
}

export async function startStandInHub(repos: Record<string, string>): Promise<StandInHub> {
  const log: HubRequest[] = [];
  const delay = { ms: 0 };
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Range',
    'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
    'Cross-Origin-Resource-Policy': 'cross-origin',
  };
  const server: Server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    const [rawPath, query] = (req.url ?? '').split('?');
    const path = decodeURIComponent(rawPath!);
    if (path === '/__log') {
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(log));
    }
    if (path === '/__delay' && req.method === 'POST') {
      delay.ms = Number(new URLSearchParams(query).get('ms') ?? 0);
      res.writeHead(204, cors);
      return res.end();
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const root = match && repos[match[1]!];
    const file = root && normalize(join(root, match[3]!));
    if (
      !root ||
      !file ||
      !file.startsWith(root + sep) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      res.writeHead(404, { ...cors, 'Content-Type': 'text/plain' });
      return res.end('Entry not found');
    }
    const range = req.headers.range ?? null;
    log.push({ file: match[3]!, range });
    const body = readFileSync(file);
    setTimeout(() => {
      const parts = range && /^bytes=(\d+)-(\d+)?$/.exec(range);
      if (parts) {
        const start = Number(parts[1]);
        const end = Math.min(body.length - 1, parts[2] ? Number(parts[2]) : body.length - 1);
        res.writeHead(206, {
          ...cors,
          'Content-Type': 'application/octet-stream',
          'Content-Range': `bytes ${start}-${end}/${body.length}`,
          'Content-Length': end - start + 1,
          'Accept-Ranges': 'bytes',
        });
        return res.end(body.subarray(start, end + 1));
      }
      res.writeHead(200, {
        ...cors,
        'Content-Type': 'application/octet-stream',
        'Content-Length': body.length,
      });
      res.end(body);
    }, delay.ms);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    delay,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
