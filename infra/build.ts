// `npm run build`: what production runs, in dist/, so nothing is compiled or bundled at start-up
// (docs/releasing.md): the API, worker and CLI as JavaScript (`node dist/infra/start.js`,
// `node dist/infra/worker-main.js`, `node dist/infra/cli.js`), the workflow bundles a worker loads
// without webpack, the web UI, and build-info.json (version and commit, for /api/health).
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build } from 'esbuild';
import { z } from 'zod';
import { buildWeb } from '../web/build';
import { buildInfo } from './build-info';
import { tracingWorkflowModules } from './tracing';
import { workflowsPath } from './worker';

const root = path.resolve(__dirname, '..');
export const distDir = path.join(root, 'dist');

/**
 * The code production runs: not the tests, the test cluster, the one-off scripts, the release tooling or the browser's
 * code (but web/build.ts, which `npm start` imports to build the web UI in a checkout).
 */
const compiled = ['activities', 'api', 'db', 'domain', 'infra', 'workflows'];
const alsoCompiled = ['web/build.ts'];
const notCompiled = [/\.test\.ts$/, /\.d\.ts$/, /^infra\/test-cluster\//, /^infra\/scripts\//, /^infra\/release\//, /^infra\/build\.ts$/];
/** Files the compiled code reads beside itself. */
const assets = ['db/migrations', 'domain/data'];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => !notCompiled.some((pattern) => pattern.test(file)))
    .sort();
}

const inlineSourceMap = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';
const sourceMapSchema = z.object({ file: z.string() }).passthrough();

/**
 * A workflow bundle that does not depend on where the checkout is: its inline source map names
 * sources by absolute path (in `sources` and in the generated entry's `sourcesContent`) and its
 * file by a hash of them, so two checkouts of one commit would give two images. Paths relative
 * to the project, the file by its name. (The code before the map has no path in it.)
 */
function relocatable(code: string, file: string): string {
  const at = code.lastIndexOf(inlineSourceMap);
  if (at < 0) return code;
  const text = Buffer.from(code.slice(at + inlineSourceMap.length).trim(), 'base64').toString('utf8');
  const map = sourceMapSchema.parse(JSON.parse(text.replaceAll(JSON.stringify(`${root}${path.sep}`).slice(1, -1), '')));
  return `${code.slice(0, at)}${inlineSourceMap}${Buffer.from(JSON.stringify({ ...map, file })).toString('base64')}`;
}

const quietLogger = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };

export async function buildDist(log: (line: string) => void = console.log): Promise<void> {
  const started = performance.now();
  await rm(distDir, { recursive: true, force: true });
  await mkdir(distDir, { recursive: true });

  const files = [...(await Promise.all(compiled.map(sources))).flat(), ...alsoCompiled];
  // One file per module, as tsx runs them (no bundling: __dirname and require.resolve keep their meaning).
  await build({
    entryPoints: files.map((file) => path.join(root, file)),
    outdir: distDir,
    outbase: root,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const asset of assets) await cp(path.join(root, asset), path.join(distDir, asset), { recursive: true });
  log(`compiled ${files.length} modules into dist/`);

  for (const [file, workflowInterceptorModules] of [['workflow-bundle.js', []], ['workflow-bundle-traced.js', tracingWorkflowModules]] as const) {
    const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [...workflowInterceptorModules], logger: quietLogger });
    await writeFile(path.join(distDir, file), relocatable(code, file));
  }
  log('bundled the workflows: dist/workflow-bundle.js, dist/workflow-bundle-traced.js');

  await buildWeb(path.join(distDir, 'web/dist'));
  log('built the web UI into dist/web/dist');

  const info = buildInfo();
  await writeFile(path.join(distDir, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  log(`podium ${info.version} (commit ${info.commit}) built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  buildDist().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
