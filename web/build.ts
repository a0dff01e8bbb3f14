import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const webDir = __dirname;
export const webDist = path.join(webDir, 'dist');

/** Bundles the Lit pages into `web/dist`, which the API serves (`npm run build`: into dist/web/dist). */
export async function buildWeb(outDir: string = webDist): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(webDir, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: path.join(outDir, 'app.js'),
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'favicon.svg']) await copyFile(path.join(webDir, file), path.join(outDir, file));
}

if (require.main === module) {
  buildWeb().then(
    () => console.log(`[podium] web built into ${path.relative(process.cwd(), webDist)}`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
