import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const buildInfoSchema = z.object({ version: z.string(), commit: z.string() });
export type BuildInfo = z.infer<typeof buildInfoSchema>;

/** The nearest folder above this module with build-info.json (dist/) or package.json (the checkout). */
function nearest(from = __dirname): { dir: string; built: boolean } {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'build-info.json'))) return { dir, built: true };
    if (existsSync(path.join(dir, 'package.json'))) return { dir, built: false };
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function gitCommit(root: string): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

let known: BuildInfo | undefined;

/**
 * The version and commit this process runs: dist/build-info.json, which `npm run build` writes
 * (an image has no .git), else package.json's version and the checkout's commit. Read once.
 */
export function buildInfo(): BuildInfo {
  if (known) return known;
  const { dir, built } = nearest();
  if (built) return (known = buildInfoSchema.parse(JSON.parse(readFileSync(path.join(dir, 'build-info.json'), 'utf8'))));
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')));
  return (known = { version, commit: gitCommit(dir) });
}
