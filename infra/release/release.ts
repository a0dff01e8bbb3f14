// `npm run release`: everything a release is, from this checkout, then a summary
// (docs/releasing.md). The build (dist/), the API + worker image and its SBOMs
// (dist/images/), built twice to show it is reproducible, and the image verified: unpacked, its API and worker run from it as its
// user against a PostgreSQL and a Temporal dev server started here for the purpose, and an
// echo request served end to end through them. As root (the image runs chrooted).
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { buildDist } from '../build';
import { buildInfo } from '../build-info';
import { findFreePorts } from '../ports';
import { projectRoot } from '../project-root';
import { startEmbeddedPostgres } from '../postgres';
import { startDevTemporal } from '../temporal-server';
import { buildAppImage, type BuiltImage } from './images';
import { unpackImage } from './unpacked-image';

const step = (line: string) => console.log(`[release] ${line}`);
const echoInput = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['release check'] }] };

async function json(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: z.record(z.string(), z.unknown()).parse(await response.json()) };
}

/** The image's API and worker on fresh services; an echo request served through them. */
async function verifyImage(image: BuiltImage): Promise<{ workerReadyMs: number }> {
  const work = await mkdtemp(path.join(tmpdir(), 'podium-release-'));
  await chmod(work, 0o755); // as root, initdb runs as the postgres user, who must reach its folder
  const [postgresPort, temporalPort, temporalUiPort, apiPort] = await findFreePorts(4);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres'), port: postgresPort! });
  const temporal = await startDevTemporal({ dataDir: path.join(work, 'temporal'), host: '127.0.0.1', port: temporalPort!, uiPort: temporalUiPort!, headless: true });
  const unpacked = await unpackImage(image.archive, buildInfo().version);
  try {
    const services = { DATABASE_URL: postgres.databaseUrl, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: 'release-check', LOG_LEVEL: 'error', TEMPORAL_METRICS_PORT: '0' };
    // A random secret for this check only (the image's own default is refused, as it should be).
    const webhookSecret = `release-check-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    await unpacked.run('/app/dist/infra/start.js', { ...services, WEBHOOK_SECRET: webhookSecret, HOST: '127.0.0.1', PORT: String(apiPort) }, '[podium] ready');
    const started = performance.now();
    await unpacked.run('/app/dist/infra/worker-main.js', { ...services, WEBHOOK_SECRET: webhookSecret, WORKER_METRICS_PORT: '0' }, 'worker-ready');
    const workerReadyMs = performance.now() - started;
    const api = `http://127.0.0.1:${apiPort}`;
    const health = await json(`${api}/api/health`);
    if (health.body.version !== buildInfo().version || health.body.commit !== buildInfo().commit) throw new Error(`the image's API reports ${JSON.stringify(health.body)}`);
    const { token } = z.object({ token: z.string() }).parse((await json(`${api}/api/sessions/anonymous`, { method: 'POST' })).body);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const submitted = await json(`${api}/api/requests`, { method: 'POST', headers, body: JSON.stringify({ model: 'echo', input: echoInput }) });
    if (submitted.status !== 202) throw new Error(`the image's API refused a request: ${JSON.stringify(submitted.body)}`);
    const done = await json(`${api}/api/requests/${String(submitted.body.id)}?wait=60`, { headers });
    if (done.body.status !== 'COMPLETE') throw new Error(`the request from the image ended ${String(done.body.status)}: ${JSON.stringify(done.body.error)}`);
    return { workerReadyMs };
  } finally {
    await unpacked.remove();
    await temporal.stop();
    await postgres.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  const started = performance.now();
  const { version, commit } = buildInfo();
  step(`podium ${version} at commit ${commit}`);
  step('building dist/ (npm run build)');
  await buildDist((line) => step(`  ${line}`));
  step('building the API + worker image (npm run images), twice: one commit must give one image');
  const image = await buildAppImage((line) => step(`  ${line}`));
  const bytes = await readFile(image.archive);
  const again = await buildAppImage((line) => step(`  ${line}`));
  if (again.digest !== image.digest || !(await readFile(again.archive)).equals(bytes)) throw new Error(`two builds differ: ${image.digest}, ${again.digest}`);
  const npmSbom = z.object({ bomFormat: z.literal('CycloneDX'), components: z.array(z.object({ name: z.string() })).min(1) }).parse(JSON.parse(await readFile(image.sboms[0]!, 'utf8')));
  if (!/^libc6 \S+ amd64$/m.test(await readFile(image.sboms[1]!, 'utf8'))) throw new Error('the Debian SBOM does not name libc6');
  step('verifying the image: its API and worker, unpacked and chrooted as its user, serve a request');
  const { workerReadyMs } = await verifyImage(image);
  const relative = (file: string) => path.relative(projectRoot, file);
  console.log(`
podium ${version} (commit ${commit}), released in ${((performance.now() - started) / 1000).toFixed(0)} s
  image     ${relative(image.archive)}
  digest    ${image.digest}
  size      ${(image.bytes / 1e6).toFixed(1)} MB uncompressed
  SBOMs     ${image.sboms.map(relative).join(', ')} (${npmSbom.components.length} npm components)
  rebuilt   the same digest and the same bytes from a second build
  verified  an echo request served by the image's API and worker; the worker polled ${workerReadyMs.toFixed(0)} ms after its start
  next      push the archive (skopeo copy oci-archive:${relative(image.archive)} docker://<registry>/podium:${version}), tag v${version} (docs/releasing.md)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[release] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
