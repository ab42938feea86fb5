import { execFileSync } from 'node:child_process';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { chromiumPath } from './browser.ts';

/** A one-line description of this machine, for benchmark reports. */
export function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memory = `${Math.round(totalmem() / 2 ** 30)} GiB`;
  let browser = 'Chromium (version unknown)';
  try {
    browser = execFileSync(chromiumPath, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'], // Debian's wrapper script prints noise on stderr
    }).trim();
  } catch {
    // keep the fallback text
  }
  return `${cpus().length} × ${cpu}, ${memory} RAM, ${osType()} ${release()}, ${browser}, Node ${process.version}`;
}
