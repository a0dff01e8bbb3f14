import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const webDir = __dirname;
export const webDist = path.join(webDir, 'dist');

/** Bundles the Lit pages into `web/dist`, which the API serves. */
export async function buildWeb(): Promise<void> {
  await mkdir(webDist, { recursive: true });
  await build({
    entryPoints: [path.join(webDir, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: path.join(webDist, 'app.js'),
    logLevel: 'warning',
  });
  await copyFile(path.join(webDir, 'index.html'), path.join(webDist, 'index.html'));
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
