// `npm run images`: the release's container images as OCI archives in dist/images/, built on this
// machine with no container daemon and no base image (infra/release/app-rootfs.ts says how),
// each with its digest, its size and its SBOMs. Run after `npm run build` (it builds dist/ when
// missing). docs/releasing.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildDist, distDir } from '../build';
import { buildInfo } from '../build-info';
import { projectRoot } from '../project-root';
import { appUser, assembleAppRootfs, runNpm } from './app-rootfs';
import { buildOciImage } from './oci-image';

export const imagesDir = path.join(distDir, 'images');

/** The commit's time: every timestamp in the images, so that a rebuild of the commit is identical. */
function commitEpoch(): number {
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: projectRoot, encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

/** The Debian packages (and versions) the copied files come from. */
function debianPackages(files: string[]): string[] {
  const packages = new Set<string>(['ca-certificates']);
  for (const file of files) {
    // Debian registers /usr paths (merged /usr), and the file a library's symlink names.
    const candidates = [realpathSync(file), `/usr${realpathSync(file)}`, file, `/usr${file}`];
    const owner = candidates.map((candidate) => spawnSync('dpkg', ['-S', candidate], { encoding: 'utf8' })).find((found) => found.status === 0);
    if (!owner) throw new Error(`no Debian package owns ${file}`);
    packages.add(owner.stdout.split(':')[0]!);
  }
  return [...packages].sort().map((name) => execFileSync('dpkg-query', ['-W', '-f=${Package} ${Version} ${Architecture}', name], { encoding: 'utf8' }).trim());
}

const bytesIn = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

export type BuiltImage = { name: string; archive: string; digest: string; bytes: number; sboms: string[] };

/** The API + worker image: `node dist/infra/start.js` by default, `dist/infra/worker-main.js` as the worker's command. */
export async function buildAppImage(log: (line: string) => void = console.log): Promise<BuiltImage> {
  if (!existsSync(path.join(distDir, 'build-info.json'))) await buildDist(log);
  const { version, commit } = buildInfo();
  const epochSeconds = commitEpoch();
  const work = await mkdtemp(path.join(tmpdir(), 'podium-image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    const started = performance.now();
    const { libraries } = await assembleAppRootfs(rootfs, epochSeconds);
    const bytes = bytesIn(rootfs);
    await mkdir(imagesDir, { recursive: true });
    const name = `podium-${version}`;
    const archive = path.join(imagesDir, `${name}.oci.tar`);
    const { digest } = await buildOciImage({
      rootfs,
      layout: path.join(work, 'layout'),
      archive,
      tag: version,
      epochSeconds,
      config: {
        user: `${appUser.uid}:${appUser.gid}`,
        workingDir: '/app',
        entrypoint: '/usr/local/bin/node',
        cmd: 'dist/infra/start.js',
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production', START_WORKER: 'false', HOST: '0.0.0.0' },
        labels: {
          'org.opencontainers.image.title': 'podium',
          'org.opencontainers.image.description': 'Podium API (node dist/infra/start.js) and worker (node dist/infra/worker-main.js)',
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.revision': commit,
          'org.opencontainers.image.created': new Date(epochSeconds * 1000).toISOString(),
          'org.opencontainers.image.licenses': 'Apache-2.0',
        },
      },
    });
    // What is in it: the npm packages (CycloneDX, from the image's own node_modules) and the Debian packages.
    const npmSbom = path.join(imagesDir, `${name}.npm.cdx.json`);
    await writeFile(npmSbom, runNpm(['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--package-lock-only'], path.join(rootfs, 'app')));
    const debianList = path.join(imagesDir, `${name}.debian-packages.txt`);
    await writeFile(debianList, `${debianPackages(libraries).join('\n')}\nnode-linux-x64 (npm) ${execFileSync(path.join(rootfs, 'usr/local/bin/node'), ['--version'], { encoding: 'utf8' }).trim()}, stripped (strip --strip-unneeded)\n`);
    log(`${name}: ${digest}, ${(bytes / 1e6).toFixed(1)} MB uncompressed, built in ${((performance.now() - started) / 1000).toFixed(0)} s → ${path.relative(projectRoot, archive)}`);
    return { name, archive, digest, bytes, sboms: [npmSbom, debianList] };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  buildAppImage().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
