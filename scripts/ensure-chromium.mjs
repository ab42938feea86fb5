/**
 * `npm test`'s first step: the browser tests drive Debian's Chromium (never a downloaded
 * browser). When it is missing, install Debian's package as root with apt-get; otherwise stop
 * with the one command to run. `CHROMIUM_PATH` names another browser, which is never installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const install = 'apt-get install -y chromium';

function stop(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}

if (!existsSync(path)) {
  if (process.env.CHROMIUM_PATH) stop(`CHROMIUM_PATH names ${path}, which does not exist.`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = existsSync('/usr/bin/apt-get');
  if (!root || !apt)
    stop(
      `The browser tests need Debian's Chromium at ${path}. Install it once, then run npm test again:\n` +
        `  sudo apt-get update && sudo ${install}` +
        (apt ? '' : '\n(or set CHROMIUM_PATH to a Chromium of your own)'),
    );
  console.log(`Chromium is missing: installing Debian's package (${install}).`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', env });
  if (!existsSync(path)) stop(`apt-get installed chromium, but ${path} is still missing.`);
}
