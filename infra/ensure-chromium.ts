import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const debianChromium = '/usr/bin/chromium';

/**
 * Chromium for the browser tests: CHROMIUM_PATH, else Debian's `chromium` package, installed
 * with apt when missing and we are root (browser downloads from elsewhere fail on these machines).
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  if (existsSync(debianChromium)) return debianChromium;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error('The browser tests need Chromium: install Debian\'s "chromium" package, or set CHROMIUM_PATH');
  }
  log('installing Chromium for the browser tests (apt-get install chromium; a minute or two, once)…');
  const install = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
    encoding: 'utf8',
  });
  if (install.status !== 0 || !existsSync(debianChromium)) {
    throw new Error(`apt-get install chromium failed: ${(install.stderr || install.stdout).trim().split('\n').slice(-3).join('\n')}`);
  }
  return debianChromium;
}
