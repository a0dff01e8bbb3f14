import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { buildInfoFile, runsFromBuild } from './prebuilt';
import { projectRoot } from './project-root';

export const buildInfoSchema = z.object({ version: z.string(), commit: z.string() });
export type BuildInfo = z.infer<typeof buildInfoSchema>;

function gitCommit(root: string): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
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
  if (runsFromBuild) return (known = buildInfoSchema.parse(JSON.parse(readFileSync(buildInfoFile, 'utf8'))));
  const { version } = z
    .object({ version: z.string() })
    .parse(JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')));
  return (known = { version, commit: gitCommit(projectRoot) });
}
