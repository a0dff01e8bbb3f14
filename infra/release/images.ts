// `npm run images`: the release's container images as OCI archives in dist/images/ (the API +
// worker image and one per demo model), built on this machine with no container daemon and no
// base image (infra/release/rootfs.ts says how),
// each with its digest, its size and its SBOMs. Run after `npm run build` (it builds dist/ when
// missing). docs/releasing.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildDist, distDir } from '../build';
import { podiumNodeOptions } from '../node-options';
import { buildInfo } from '../../lib/build-info';
import { projectRoot } from '../../lib/project-root';
import { assembleAppRootfs, runNpm } from './app-rootfs';
import { assembleModelRootfs, demoModelNames } from './model-rootfs';
import { buildOciImage, type ImageConfig } from './oci-image';
import { imageUser } from './rootfs';

export const imagesDir = path.join(distDir, 'images');

/** The commit's time: every timestamp in the images, so that a rebuild of the commit is identical. */
function commitEpoch(): number {
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: projectRoot, encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

/** The Debian packages (and versions) the copied files come from, and `others` copied whole. */
function debianPackages(files: string[], others: string[]): string[] {
  const packages = new Set<string>(others);
  for (const file of files) {
    // Debian registers /usr paths (merged /usr), and the file a library's symlink names.
    const candidates = [realpathSync(file), `/usr${realpathSync(file)}`, file, `/usr${file}`];
    const owner = candidates
      .map((candidate) => spawnSync('dpkg', ['-S', candidate], { encoding: 'utf8' }))
      .find((found) => found.status === 0);
    if (!owner) throw new Error(`no Debian package owns ${file}`);
    packages.add(owner.stdout.split(':')[0]!);
  }
  return [...packages]
    .sort()
    .map((name) =>
      execFileSync('dpkg-query', ['-W', '-f=${Package} ${Version} ${Architecture}', name], { encoding: 'utf8' }).trim(),
    );
}

const bytesIn = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

export type BuiltImage = { name: string; archive: string; digest: string; bytes: number; sboms: string[] };

type ImageRecipe = {
  name: string;
  description: string;
  /** Writes the root filesystem; returns the files it copied from Debian packages. */
  assemble: (rootfs: string, epochSeconds: number) => Promise<{ libraries: string[] }>;
  /** Debian packages whose files it holds besides the libraries. */
  debianPackages: string[];
  /** Where in the root filesystem the npm SBOM is read from (a package.json with its lockfile). */
  npmProject: string;
  config: Omit<ImageConfig, 'user' | 'labels' | 'entrypoint'>;
};

/** One image as an OCI archive in dist/images/, its SBOMs beside it. */
async function buildImage(recipe: ImageRecipe, log: (line: string) => void): Promise<BuiltImage> {
  if (!existsSync(path.join(distDir, 'build-info.json'))) await buildDist(log);
  const { version, commit } = buildInfo();
  const epochSeconds = commitEpoch();
  const work = await mkdtemp(path.join(tmpdir(), 'podium-image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    const started = performance.now();
    const { libraries } = await recipe.assemble(rootfs, epochSeconds);
    const bytes = bytesIn(rootfs);
    await mkdir(imagesDir, { recursive: true });
    const name = `${recipe.name}-${version}`;
    const archive = path.join(imagesDir, `${name}.oci.tar`);
    const { digest } = await buildOciImage({
      rootfs,
      layout: path.join(work, 'layout'),
      archive,
      tag: version,
      epochSeconds,
      config: {
        ...recipe.config,
        user: `${imageUser.uid}:${imageUser.gid}`,
        entrypoint: '/usr/local/bin/node',
        labels: {
          'org.opencontainers.image.title': recipe.name,
          'org.opencontainers.image.description': recipe.description,
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.revision': commit,
          'org.opencontainers.image.created': new Date(epochSeconds * 1000).toISOString(),
          'org.opencontainers.image.licenses': 'Apache-2.0',
        },
      },
    });
    // What is in it: the npm packages (CycloneDX, from the image's own lockfile) and the Debian packages.
    const npmSbom = path.join(imagesDir, `${name}.npm.cdx.json`);
    await writeFile(
      npmSbom,
      runNpm(
        ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--package-lock-only'],
        path.join(rootfs, recipe.npmProject),
      ),
    );
    const debianList = path.join(imagesDir, `${name}.debian-packages.txt`);
    await writeFile(
      debianList,
      `${debianPackages(libraries, recipe.debianPackages).join('\n')}\nnode-linux-x64 (npm) ${execFileSync(path.join(rootfs, 'usr/local/bin/node'), ['--version'], { encoding: 'utf8' }).trim()}, stripped (strip --strip-unneeded)\n`,
    );
    log(
      `${name}: ${digest}, ${(bytes / 1e6).toFixed(1)} MB uncompressed, built in ${((performance.now() - started) / 1000).toFixed(0)} s → ${path.relative(projectRoot, archive)}`,
    );
    return { name, archive, digest, bytes, sboms: [npmSbom, debianList] };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The API + worker image: `node dist/infra/start.js` by default, `dist/infra/worker-main.js` as the worker's command. */
export function buildAppImage(log: (line: string) => void = console.log): Promise<BuiltImage> {
  return buildImage(
    {
      name: 'podium',
      description: 'Podium API (node dist/infra/start.js) and worker (node dist/infra/worker-main.js)',
      assemble: assembleAppRootfs,
      debianPackages: ['ca-certificates'],
      npmProject: 'app',
      config: {
        workingDir: '/app',
        cmd: 'dist/infra/start.js',
        env: {
          PATH: '/usr/local/bin:/usr/bin:/bin',
          NODE_ENV: 'production',
          NODE_OPTIONS: podiumNodeOptions,
          START_WORKER: 'false',
          HOST: '0.0.0.0',
        },
      },
    },
    log,
  );
}

/**
 * A demo model's image (`podium-model-<model>`): its OIP v2 server on `PORT` (8080, the catalog's
 * default container port), as the Kubernetes runtime runs it with the image's own entrypoint.
 */
export function buildModelImage(model: string, log: (line: string) => void = console.log): Promise<BuiltImage> {
  return buildImage(
    {
      name: `podium-model-${model}`,
      description: `Podium demo model ${model}: an Open Inference Protocol v2 server (node /models/${model}/server.ts)`,
      assemble: (rootfs, epochSeconds) => assembleModelRootfs(rootfs, model, epochSeconds),
      debianPackages: [],
      npmProject: 'models',
      config: {
        workingDir: '/models',
        cmd: `/models/${model}/server.ts`,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080' },
      },
    },
    log,
  );
}

/** Every image of a release: the API + worker image, then one per demo model. */
export type BuiltModelImage = BuiltImage & { model: string };

export async function buildAllImages(
  log: (line: string) => void = console.log,
): Promise<{ app: BuiltImage; models: BuiltModelImage[] }> {
  const app = await buildAppImage(log);
  const models: BuiltModelImage[] = [];
  for (const model of await demoModelNames()) models.push({ ...(await buildModelImage(model, log)), model });
  return { app, models };
}

if (require.main === module) {
  buildAllImages().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
