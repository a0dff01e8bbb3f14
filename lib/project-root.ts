import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder holding Podium's package.json: the checkout (or an image's app folder), whether this
 * code runs from its source or compiled into dist/. Model commands, `.tools/` and the like are
 * relative to it.
 */
export const projectRoot = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
})();
