import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { ensureTemporalCli } from './temporal-cli';

export type DevTemporal = { address: string; uiUrl: string; pid: number; stop: () => Promise<void> };

async function waitUntilServing(address: string, exited: () => string | null, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit) throw new Error(`the Temporal dev server exited during start-up: ${exit}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs} ms: ${String(lastError)}`);
}

const dynamicConfig = (...values: string[]) => values.flatMap((value) => ['--dynamic-config-value', value]);

/**
 * Dev server settings for a faster request path, by name so that a benchmark can compare them
 * (`npm run bench:floor`; `PODIUM_TEMPORAL_TUNING=<name> npm run bench`). `npm start` and the
 * tests use `defaultDevServerTuning`. Measured on a 2-core machine, 2026-11-27:
 * - transfer RPS (the transfer queue, which carries new workflow and activity tasks, read at
 *   once instead of at the default poll rate): sequential submit → COMPLETE p50 200 → 88 ms,
 *   request → pod ready p50 146 → 58 ms, cold pool reaction p50 183 → 67 ms. Kept.
 * - one task queue partition (`matching.numTaskqueue{Read,Write}Partitions=1`): 200 ms → 200
 *   ms alone, 88 → 85 ms with transfer RPS, 16-client throughput 23.7 → 25.0/s: noise. Not kept.
 */
export const devServerTunings = {
  none: [],
  'one partition': dynamicConfig('matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'),
  'transfer RPS': dynamicConfig('history.transferProcessorMaxPollRPS=10000'),
} satisfies Record<string, string[]>;
export type DevServerTuning = keyof typeof devServerTunings;
export const defaultDevServerTuning: DevServerTuning = 'transfer RPS';

/** `temporal server start-dev` with its SQLite file under `dataDir`; resolves once it serves. */
export async function startDevTemporal(options: {
  dataDir: string;
  host: string;
  port: number;
  uiPort: number;
  headless?: boolean;
  log?: (line: string) => void;
  tuning?: DevServerTuning;
}): Promise<DevTemporal> {
  const binary = ensureTemporalCli(options.log);
  await mkdir(options.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.dataDir, 'temporal.sqlite'),
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=off',
    '--ip',
    options.host,
    '--port',
    String(options.port),
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    // A worker that completes a workflow task takes the activities it schedules right away,
    // instead of a round trip through the activity task queue (the SDK asks by default; the
    // server needs this flag). Saves one dispatch per activity, e.g. between pod ready and
    // the first inference byte.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...devServerTunings[options.tuning ?? defaultDevServerTuning],
    ...searchAttributeFlags.flatMap((flag) => ['--search-attribute', flag]),
    ...(options.headless ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
  ];
  // Its own process group: Ctrl-C reaches Podium, which stops the server after the worker.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitDescription: string | null = null;
  child.once('exit', (code, signal) => {
    exitDescription = `code ${code ?? signal}; ${output.join('').slice(-800)}`;
  });

  const address = `${options.host}:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilServing(address, () => exitDescription, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: `http://${options.host}:${options.uiPort}`, pid: child.pid!, stop };
}
