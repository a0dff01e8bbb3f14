import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runGo } from '../go-command';
import { temporalServerDir, temporalServerPaths, temporalServerVersion, type TemporalServerBinaries } from './versions';

type Log = (line: string) => void;

/**
 * `temporal-server` and `temporal-sql-tool` at the pinned version, built from the Go module proxy
 * into ~/.cache/podium once per machine (a few minutes the first time), with the module's
 * PostgreSQL schemas beside them. Built into a temporary directory and moved into place, so an
 * interrupted build leaves nothing that looks finished.
 */
export async function ensureTemporalServer(log: Log = console.log): Promise<TemporalServerBinaries> {
  const paths = temporalServerPaths();
  if ([paths.server, paths.sqlTool, paths.postgresSchemas].every(existsSync)) return paths;
  const dir = temporalServerDir();
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  log(`building the Temporal server ${temporalServerVersion} from the Go module proxy (once per machine) …`);
  await writeFile(
    path.join(building, 'go.mod'),
    `module podium.local/temporal-server-build\n\ngo 1.26.0\n\nrequire go.temporal.io/server ${temporalServerVersion}\n`,
  );
  const packages = { 'temporal-server': 'cmd/server', 'temporal-sql-tool': 'cmd/tools/sql' };
  await runGo(
    ['get', ...Object.values(packages).map((p) => `go.temporal.io/server/${p}@${temporalServerVersion}`)],
    building,
  );
  for (const [binary, pkg] of Object.entries(packages)) {
    const started = Date.now();
    await runGo(['build', '-trimpath', '-o', path.join('bin', binary), `go.temporal.io/server/${pkg}`], building, {
      CGO_ENABLED: '0',
    });
    log(`  built ${binary} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const moduleDir = (await runGo(['list', '-m', '-f', '{{.Dir}}', 'go.temporal.io/server'], building)).trim();
  await cp(path.join(moduleDir, 'schema', 'postgresql', 'v12'), path.join(building, 'schema', 'postgresql', 'v12'), {
    recursive: true,
  });
  await rm(dir, { recursive: true, force: true });
  await rename(building, dir);
  return paths;
}

if (require.main === module) {
  ensureTemporalServer((line) => console.log(`[temporal-cluster] ${line}`)).then(
    (paths) => console.log(`[temporal-cluster] ${paths.server}`),
    (error: Error) => {
      console.error(`[temporal-cluster] ${error.message}`);
      process.exit(1);
    },
  );
}
