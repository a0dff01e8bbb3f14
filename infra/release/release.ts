// `npm run release`: everything a release is, from this checkout, then a summary
// (docs/releasing.md). The build (dist/), the API + worker image and its SBOMs
// (dist/images/), built twice to show it is reproducible, and the image verified: unpacked, its API and worker run from it as its
// user against a PostgreSQL and a Temporal dev server started here for the purpose, and an
// echo request served end to end through them. As root (the image runs chrooted).
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { buildDist } from '../build';
import { buildInfo } from '../../lib/build-info';
import { findFreePorts } from '../../lib/ports';
import { projectRoot } from '../../lib/project-root';
import { startEmbeddedPostgres } from '../postgres';
import { startDevTemporal } from '../temporal-server';
import { buildAllImages, imagesDir, type BuiltImage, type BuiltModelImage } from './images';
import { imageUser } from './rootfs';
import { unpackImage } from './unpacked-image';
import { writePinnedOverlays } from '../kustomize';

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
  const temporal = await startDevTemporal({
    dataDir: path.join(work, 'temporal'),
    host: '127.0.0.1',
    port: temporalPort!,
    uiPort: temporalUiPort!,
    headless: true,
  });
  const unpacked = await unpackImage(image.archive, buildInfo().version);
  try {
    checkImageConfig(image.name, unpacked.config, ['/usr/local/bin/node', 'dist/infra/start.js']);
    const services = {
      DATABASE_URL: postgres.databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'release-check',
      LOG_LEVEL: 'error',
      TEMPORAL_METRICS_PORT: '0',
    };
    // A random secret for this check only (the image's own default is refused, as it should be).
    const webhookSecret = `release-check-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    await unpacked.run(
      '/app/dist/infra/start.js',
      { ...services, WEBHOOK_SECRET: webhookSecret, HOST: '127.0.0.1', PORT: String(apiPort) },
      '[podium] ready',
    );
    const started = performance.now();
    await unpacked.run(
      '/app/dist/infra/worker-main.js',
      { ...services, WEBHOOK_SECRET: webhookSecret, WORKER_METRICS_PORT: '0' },
      'worker-ready',
    );
    const workerReadyMs = performance.now() - started;
    const api = `http://127.0.0.1:${apiPort}`;
    const health = await json(`${api}/api/health`);
    if (health.body.version !== buildInfo().version || health.body.commit !== buildInfo().commit)
      throw new Error(`the image's API reports ${JSON.stringify(health.body)}`);
    const { token } = z
      .object({ token: z.string() })
      .parse((await json(`${api}/api/sessions/anonymous`, { method: 'POST' })).body);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const submitted = await json(`${api}/api/requests`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'echo', input: echoInput }),
    });
    if (submitted.status !== 202)
      throw new Error(`the image's API refused a request: ${JSON.stringify(submitted.body)}`);
    const done = await json(`${api}/api/requests/${String(submitted.body.id)}?wait=60`, { headers });
    if (done.body.status !== 'COMPLETE')
      throw new Error(
        `the request from the image ended ${String(done.body.status)}: ${JSON.stringify(done.body.error)}`,
      );
    return { workerReadyMs };
  } finally {
    await unpacked.remove();
    await temporal.stop();
    await postgres.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** What the image says of itself: its user, its command, and the version and commit it was built from (OCI labels). */
function checkImageConfig(
  name: string,
  config: Awaited<ReturnType<typeof unpackImage>>['config'],
  args: string[],
): void {
  const { version, commit } = buildInfo();
  const problems = [
    config.user.uid === imageUser.uid && config.user.gid === imageUser.gid
      ? null
      : `runs as ${config.user.uid}:${config.user.gid}`,
    JSON.stringify(config.args) === JSON.stringify(args) ? null : `runs ${config.args.join(' ')}`,
    config.annotations['org.opencontainers.image.version'] === version
      ? null
      : `is labelled version ${config.annotations['org.opencontainers.image.version']}`,
    config.annotations['org.opencontainers.image.revision'] === commit
      ? null
      : `is labelled revision ${config.annotations['org.opencontainers.image.revision']}`,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new Error(`${name} ${problems.join(', ')}`);
}

/**
 * What a demo model's image is asked: OIP v2 health, the model's readiness and one inference;
 * the Markov model speaks the OpenAI API instead (its catalog row says so: migration 029).
 */
function smokeTestOf(model: string): { probes: string[]; path: string; body: unknown } {
  if (model === 'markov') {
    return {
      probes: ['/v1/models'],
      path: '/v1/chat/completions',
      body: { messages: [{ role: 'user', content: 'We hold these' }], max_tokens: 3 },
    };
  }
  return {
    probes: ['/v2/health/ready', `/v2/models/${model}/ready`],
    path: `/v2/models/${model}/infer`,
    body: echoInput,
  };
}

/** A demo model's image, unpacked and run as its user: its health, its readiness and one inference (smokeTestOf). */
async function verifyModelImage({ model, ...image }: BuiltModelImage): Promise<void> {
  const unpacked = await unpackImage(image.archive, buildInfo().version);
  try {
    checkImageConfig(image.name, unpacked.config, ['/usr/local/bin/node', `/models/${model}/server.ts`]);
    const [port] = await findFreePorts(1);
    await unpacked.run(`/models/${model}/server.ts`, { HOST: '127.0.0.1', PORT: String(port) }, '"event":"listening"');
    const server = `http://127.0.0.1:${port}`;
    const smoke = smokeTestOf(model);
    for (const probe of smoke.probes) {
      const { status } = await fetch(`${server}${probe}`);
      if (status !== 200) throw new Error(`${image.name} answered ${status} to GET ${probe}`);
    }
    const inferred = await fetch(`${server}${smoke.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(smoke.body),
    });
    // The fail model answers every inference with 500, on purpose.
    const expected = model === 'fail' ? 500 : 200;
    if (inferred.status !== expected)
      throw new Error(
        `${image.name} answered ${inferred.status} to an inference (expected ${expected}): ${await inferred.text()}`,
      );
  } finally {
    await unpacked.remove();
  }
}

/** An archive's own SHA-256: two builds must agree on every byte, not only on the manifest digest. */
const archiveHash = (archive: string) =>
  readFile(archive).then((bytes) => createHash('sha256').update(bytes).digest('hex'));

/** Builds every image twice: one commit must give one digest, and the same bytes, per image. */
async function buildImagesTwice(): Promise<Awaited<ReturnType<typeof buildAllImages>>> {
  const first = await buildAllImages((line) => step(`  ${line}`));
  const images = [first.app, ...first.models];
  const hashes = await Promise.all(images.map((image) => archiveHash(image.archive)));
  const second = await buildAllImages((line) => step(`  ${line}`));
  for (const [index, again] of [second.app, ...second.models].entries()) {
    const image = images[index]!;
    if (again.digest !== image.digest || (await archiveHash(again.archive)) !== hashes[index])
      throw new Error(`two builds of ${image.name} differ: ${image.digest}, ${again.digest}`);
  }
  return first;
}

const cycloneDx = z.object({
  bomFormat: z.literal('CycloneDX'),
  components: z.array(z.object({ name: z.string() })).default([]),
});

/** Each image's SBOMs: a CycloneDX npm SBOM, and a Debian list that names the C library. */
async function checkSboms(image: BuiltImage): Promise<number> {
  const npmSbom = cycloneDx.parse(JSON.parse(await readFile(image.sboms[0]!, 'utf8')));
  if (!/^libc6 \S+ amd64$/m.test(await readFile(image.sboms[1]!, 'utf8')))
    throw new Error(`the Debian SBOM of ${image.name} does not name libc6`);
  return npmSbom.components.length;
}

async function main() {
  const started = performance.now();
  const { version, commit } = buildInfo();
  step(`podium ${version} at commit ${commit}`);
  step('building dist/ (npm run build)');
  await buildDist((line) => step(`  ${line}`));
  step('building the images (npm run images), twice: one commit must give one digest per image');
  const { app, models } = await buildImagesTwice();
  const images = [app, ...models];
  const components = await Promise.all(images.map(checkSboms));
  step('verifying the API + worker image: its API and worker, unpacked and chrooted as its user, serve a request');
  const { workerReadyMs } = await verifyImage(app);
  for (const image of models) {
    step(`verifying ${image.name}: its health, readiness and an inference, from the unpacked image as its user`);
    await verifyModelImage(image);
  }
  step('pinning the manifests to the image (dist/k8s/<overlay>/), each overlay rendered with kubectl kustomize');
  const pinned = await writePinnedOverlays(app.digest);
  for (const { overlay, images: refs } of pinned) {
    const unpinned = refs.filter((ref) => !ref.endsWith(`@${app.digest}`));
    if (refs.length === 0 || unpinned.length > 0)
      throw new Error(
        `overlay ${overlay} runs ${unpinned.join(', ') || 'no image'}, not the image built (${app.digest})`,
      );
  }
  const relative = (file: string) => path.relative(projectRoot, file);
  const width = Math.max(...images.map((image) => image.name.length));
  console.log(`
podium ${version} (commit ${commit}), released in ${((performance.now() - started) / 1000).toFixed(0)} s
  images    (in ${relative(imagesDir)}/, each <name>.oci.tar with <name>.npm.cdx.json and <name>.debian-packages.txt)
${images.map((image, index) => `    ${image.name.padEnd(width)}  ${image.digest}  ${(image.bytes / 1e6).toFixed(1).padStart(5)} MB uncompressed  ${components[index]} npm components`).join('\n')}
  rebuilt   the same digests and the same bytes from a second build
  verified  an echo request served by the image's API and worker (the worker polled ${workerReadyMs.toFixed(0)} ms after its start);
            each model image answered its health, its model's readiness and an inference;
            every image runs as ${imageUser.uid}:${imageUser.gid}, read-only, and is labelled with the version and commit
  manifests ${pinned.map(({ rendered, images: refs }) => `${relative(rendered)} (${refs[0]})`).join('\n            ')}
            (kubectl apply -k dist/k8s/<overlay> after pushing the image to that name)
  next      push the archives (skopeo copy oci-archive:${relative(app.archive)} docker://<registry>/podium:${version}, and each model's), tag v${version} (docs/releasing.md)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[release] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
