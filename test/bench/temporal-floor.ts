// The bare Temporal floor of a work request, measured on a given Temporal server: a workflow
// with one local activity that POSTs the echo input to a warm echo server, started with
// `requestEagerStart` (its first workflow task comes back in the start call), worker and
// client in this process. Every request benchmark measures it in the same run and prints
// Podium's figures beside it. `npm run bench:floor` measures it alone, on servers with and
// without the dev server tuning of infra/temporal-server.ts, to show what each flag is worth.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { findFreePort } from '../../infra/ports';
import { devServerTunings, startDevTemporal, type DevServerTuning } from '../../infra/temporal-server';
import { echoModel } from '../support/models';
import { echoInput } from '../support/test-stack';
import { percentile } from './figures';
import type { FloorActivities } from './temporal-floor.workflows';

export type TemporalFloor = { sequentialP50: number; sequentialP99: number; clients: number; workflowsPerSecond: number };

/** Measures the floor: `runs` sequential workflows, then `clients` concurrent loops for `seconds`. */
export async function measureTemporalFloor(options: {
  address: string;
  endpoint: string;
  runs?: number;
  clients?: number;
  seconds?: number;
}): Promise<TemporalFloor> {
  const { address, endpoint, runs = 200, clients = 16, seconds = 10 } = options;
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `floor-${randomUUID()}`;
  const activities: FloorActivities = {
    async infer(target) {
      const response = await fetch(`${target}/v2/models/echo/infer`, { method: 'POST', body: JSON.stringify(echoInput) });
      await response.json();
    },
  };
  const worker = await Worker.create({ connection, taskQueue, workflowsPath: require.resolve('./temporal-floor.workflows'), activities });
  // Eager start needs the client on the worker's own connection.
  const client = new Client({ connection });
  const once = () =>
    client.workflow.execute('floorRequest', { taskQueue, workflowId: `floor-${randomUUID()}`, args: [endpoint], requestEagerStart: true });
  try {
    return await worker.runUntil(async () => {
      for (let i = 0; i < 20; i++) await once(); // warm-up
      const sequential: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await once();
        sequential.push(performance.now() - t0);
      }
      let completed = 0;
      const started = performance.now();
      const deadline = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() < deadline) {
            await once();
            completed++;
          }
        }),
      );
      return {
        sequentialP50: percentile(sequential, 50),
        sequentialP99: percentile(sequential, 99),
        clients,
        workflowsPerSecond: completed / ((performance.now() - started) / 1000),
      };
    });
  } finally {
    await connection.close();
  }
}

/** One line for a benchmark's output: the floor measured in its run. */
export function describeFloor(floor: TemporalFloor): string {
  return (
    `Temporal floor (same server, same run): sequential p50 ${floor.sequentialP50.toFixed(1)} ms, ` +
    `p99 ${floor.sequentialP99.toFixed(1)} ms; ${floor.clients} clients ${floor.workflowsPerSecond.toFixed(1)} workflows/s`
  );
}

/** `npm run bench:floor`: the floor on a fresh dev server per tuning, one warm echo server. */
async function compareTunings() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const runtime = new LocalProcessRuntime();
  const placed = await runtime.start({ instanceId: 'floor', model: echoModel, annotations: {}, startupTimeoutMs: 30_000 });
  const { endpoint } = await runtime.awaitReady(placed, { timeoutMs: 30_000, signal: new AbortController().signal, onProgress: () => undefined });
  const rows: Record<string, string>[] = [];
  try {
    for (const tuning of Object.keys(devServerTunings) as DevServerTuning[]) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'podium-floor-'));
      const server = await startDevTemporal({ dataDir, host: '127.0.0.1', port: await findFreePort(), uiPort: 0, headless: true, tuning });
      try {
        const floor = await measureTemporalFloor({ address: server.address, endpoint });
        rows.push({
          'dev server tuning': tuning,
          'sequential p50 ms': floor.sequentialP50.toFixed(1),
          'sequential p99 ms': floor.sequentialP99.toFixed(1),
          [`${floor.clients} clients workflows/s`]: floor.workflowsPerSecond.toFixed(1),
        });
      } finally {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await runtime.stopAll();
  }
  console.log('\nTemporal floor: one workflow, one local activity POSTing to a warm echo server, eager start');
  console.table(rows);
}

if (require.main === module) {
  compareTunings().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
