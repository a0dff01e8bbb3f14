import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateDtsBundle } from 'dts-bundle-generator';
import { build } from 'esbuild';
import { projectRoot } from '../lib/project-root';

const clientDir = path.join(projectRoot, 'clients/typescript');
export const clientDist = path.join(clientDir, 'dist');

/**
 * Builds `@podium/client` into clients/typescript/dist: one ES module (eventsource-parser inside
 * it, so it has no dependency at run time) and one declaration file, in which the API's types
 * from domain/ are written out. Those are zod's inferred types, so the package names zod for them.
 */
export async function buildTypescriptClient(): Promise<void> {
  const entry = path.join(clientDir, 'src/index.ts');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    outfile: path.join(clientDist, 'index.js'),
    logLevel: 'warning',
  });
  const [declarations] = generateDtsBundle([{ filePath: entry, output: { noBanner: true } }], {
    preferredConfigPath: path.join(projectRoot, 'tsconfig.json'),
  });
  await writeFile(path.join(clientDist, 'index.d.ts'), declarations!);
}

if (require.main === module) {
  buildTypescriptClient().then(
    () => console.log(`[podium] the TypeScript client built into ${path.relative(process.cwd(), clientDist)}`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
