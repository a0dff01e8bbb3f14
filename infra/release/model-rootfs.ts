import { copyFile, cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../../lib/project-root';
import { runNpm } from './app-rootfs';
import { addUserAndMountPoints, installNode, normaliseTree } from './rootfs';

const modelsDir = path.join(projectRoot, 'models');

/** The demo models with an image of their own: each folder of models/ with a Node server (the Python examples are registered by hand: docs/models.md). */
export async function demoModelNames(): Promise<string[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true });
  const withServer = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map(async ({ name }) =>
        (await readFile(path.join(modelsDir, name, 'server.ts')).catch(() => null)) ? name : null,
      ),
  );
  return withServer.filter((name): name is string => name !== null).sort();
}

/** The npm packages a model's server imports by name (not `node:` modules, not relative paths). */
export function importedPackages(source: string): string[] {
  const names = [...source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
  return names
    .filter((name) => !name.startsWith('node:') && !name.startsWith('.'))
    .map((name) =>
      name
        .split('/')
        .slice(0, name.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

const lockfileSchema = z.object({ packages: z.record(z.string(), z.object({ version: z.string().optional() })) });

/**
 * The root filesystem of one demo model's image: what every image has (./rootfs.ts) and
 * `/models` laid out as in the repository (`package.json`, `oip-server.ts`, `server-process.ts`, `<model>/`),
 * which Node 24 runs as TypeScript as it is. The packages the server imports are installed at the
 * lockfile's versions (`npm install`, with a lockfile of their own, which the npm SBOM reads).
 */
export async function assembleModelRootfs(
  rootfs: string,
  model: string,
  epochSeconds: number,
): Promise<{ libraries: string[] }> {
  await rm(rootfs, { recursive: true, force: true });
  const target = path.join(rootfs, 'models');
  await mkdir(target, { recursive: true });
  for (const shared of ['oip-server.ts', 'server-process.ts'])
    await copyFile(path.join(modelsDir, shared), path.join(target, shared));
  await cp(path.join(modelsDir, model), path.join(target, model), { recursive: true });
  const packages = importedPackages(await readFile(path.join(modelsDir, model, 'server.ts'), 'utf8'));
  const locked = lockfileSchema.parse(
    JSON.parse(await readFile(path.join(projectRoot, 'package-lock.json'), 'utf8')),
  ).packages;
  const dependencies = Object.fromEntries(
    packages.map((name) => {
      const version = locked[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`models/${model}/server.ts imports ${name}, which package-lock.json does not hold`);
      return [name, version];
    }),
  );
  const { version } = z
    .object({ version: z.string() })
    .parse(JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')));
  const manifest = { name: `podium-model-${model}`, version, private: true, type: 'module', dependencies };
  await writeFile(path.join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  runNpm(['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], target);
  const libraries = await installNode(rootfs);
  await addUserAndMountPoints(rootfs, '/models');
  await normaliseTree(rootfs, epochSeconds);
  return { libraries };
}
