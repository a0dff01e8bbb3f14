import { homedir } from 'node:os';
import path from 'node:path';

/** Where built tools live between runs, outside the repository: ~/.cache/podium (PODIUM_CACHE_DIR moves it). */
export function podiumCacheDir(): string {
  return (
    process.env.PODIUM_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'podium')
  );
}
