import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A tool the tests need from Debian's packages (Chromium, jq): where it is, installed with apt
 * when missing and we are root. Downloads from anywhere but the package registries fail on
 * these machines, so this is how such tools arrive.
 */
export function ensureDebianPackage(
  binary: string,
  packageName: string,
  log: (line: string) => void = console.log,
): string {
  if (existsSync(binary)) return binary;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`The tests need ${binary}: install Debian's "${packageName}" package`);
  }
  log(`installing ${packageName} for the tests (apt-get install ${packageName}; once)…`);
  const install = spawnSync(
    'sh',
    ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packageName}`],
    {
      encoding: 'utf8',
    },
  );
  if (install.status !== 0 || !existsSync(binary)) {
    throw new Error(
      `apt-get install ${packageName} failed: ${(install.stderr || install.stdout).trim().split('\n').slice(-3).join('\n')}`,
    );
  }
  return binary;
}

/** Chromium for the browser tests: CHROMIUM_PATH, else Debian's `chromium`. */
export function ensureChromium(log?: (line: string) => void): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  return ensureDebianPackage('/usr/bin/chromium', 'chromium', log);
}
