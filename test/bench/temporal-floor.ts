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
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { defaultLocalCommands } from '../../infra/local-commands';
import { findFreePort } from '../../lib/ports';
import { devServerTunings, startDevTemporal, type DevServerTuning } from '../../infra/temporal-server';
import { echoModel } from '../support/models';
import { echoInput } from '../support/test-stack';
import { measureLoad, type LoadFigures } from './load-shape';
import type { FloorActivities } from './temporal-floor.workflows';

/** Measures the floor: `runs` sequential workflows, then `clients` concurrent loops for `seconds`. */
export async function measureTemporalFloor(options: {
  address: string;
  endpoint: string;
  runs?: number;
  clients?: number;
  seconds?: number;
}): Promise<LoadFigures> {
  const { address, endpoint } = options;
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `floor-${randomUUID()}`;
  const activities: FloorActivities = {
    async infer(target) {
      const response = await fetch(`${target}/v2/models/echo/infer`, {
        method: 'POST',
        body: JSON.stringify(echoInput),
      });
      await response.json();
    },
  };
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./temporal-floor.workflows'),
    activities,
  });
  // Eager start needs the client on the worker's own connection.
  const client = new Client({ connection });
  const once = () =>
    client.workflow.execute('floorRequest', {
      taskQueue,
      workflowId: `floor-${randomUUID()}`,
      args: [endpoint],
      requestEagerStart: true,
    });
  try {
    return await worker.runUntil(() => measureLoad(once, options));
  } finally {
    await connection.close();
  }
}

/** `npm run bench:floor`: the floor on a fresh dev server per tuning, one warm echo server. */
async function compareTunings() {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const runtime = new LocalProcessRuntime(defaultLocalCommands);
  const placed = await runtime.start({
    instanceId: 'floor',
    model: echoModel,
    annotations: {},
    startupTimeoutMs: 30_000,
  });
  const { endpoint } = await runtime.awaitReady(placed, {
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    onProgress: () => undefined,
  });
  const rows: Record<string, string>[] = [];
  try {
    for (const tuning of Object.keys(devServerTunings) as DevServerTuning[]) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'podium-floor-'));
      const server = await startDevTemporal({
        dataDir,
        host: '127.0.0.1',
        port: await findFreePort(),
        uiPort: 0,
        headless: true,
        tuning,
      });
      try {
        const floor = await measureTemporalFloor({ address: server.address, endpoint });
        rows.push({
          'dev server tuning': tuning,
          'sequential p50 ms': floor.sequentialP50.toFixed(1),
          'sequential p99 ms': floor.sequentialP99.toFixed(1),
          [`${floor.clients} clients workflows/s`]: floor.perSecond.toFixed(1),
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
