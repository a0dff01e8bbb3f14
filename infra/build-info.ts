import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const buildInfoSchema = z.object({ version: z.string(), commit: z.string() });
export type BuildInfo = z.infer<typeof buildInfoSchema>;

/** The folder holding Podium's package.json: the checkout, or the app folder of an image. */
function appRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
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
 * The version and commit this process runs: `build-info.json`, which `npm run build` writes
 * beside package.json (an image has no .git), else package.json's version and the checkout's
 * commit. Read once.
 */
export function buildInfo(): BuildInfo {
  if (known) return known;
  const root = appRoot();
  const written = path.join(root, 'build-info.json');
  if (existsSync(written)) return (known = buildInfoSchema.parse(JSON.parse(readFileSync(written, 'utf8'))));
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')));
  return (known = { version, commit: gitCommit(root) });
}
