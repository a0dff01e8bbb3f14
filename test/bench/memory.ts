// Benchmark: the memory of Podium's API + worker process as production runs it (`npm run build`,
// then `node dist/infra/start.js` on embedded defaults), at idle and after two batches of warm
// echo requests from BENCH_CLIENTS concurrent clients. Flat across the second batch means no
// leak. It runs with the heap settings the image ships (infra/node-options.ts), or with
// PODIUM_NODE_OPTIONS to try others ('' for Node's defaults). The figure is the child's resident
// set from /proc: the bench's own clients, the floors' workers and tsx are not in it. Run with
// `npm run bench:memory` (BENCH_MEMORY_REQUESTS, BENCH_CLIENTS). Beside the resident set, it
// prints what V8's heap holds of it, from the process's own /metrics.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildDist, distDir } from '../../infra/build';
import { podiumNodeOptions } from '../../infra/node-options';
import { findFreePort } from '../../lib/ports';
import { apiClient } from '../support/api-client';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { echoInput } from '../support/test-stack';
import { residentMegabytesOf } from './process-cpu';

const requests = Number(process.env.BENCH_MEMORY_REQUESTS ?? 10_000);
const clients = Number(process.env.BENCH_CLIENTS ?? 16);
const settleMs = 5_000;

/** The process's V8 heap, used and reserved, and memory held outside it (Buffers), in MB, from its /metrics. */
async function heapOf(baseUrl: string) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const megabytes = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 1024 / 1024;
  return {
    used: megabytes('nodejs_heap_size_used_bytes'),
    total: megabytes('nodejs_heap_size_total_bytes'),
    external: megabytes('nodejs_external_memory_bytes'),
  };
}

/** `node dist/infra/start.js` on free ports and its own data; resolves once it says ready. */
async function startPodium(dataDir: string) {
  const port = await findFreePort();
  const env = {
    ...process.env,
    PODIUM_ENV: 'development',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    EMBEDDED_POSTGRES_PORT: String(await findFreePort()),
    TEMPORAL_PORT: String(await findFreePort()),
    TEMPORAL_UI_PORT: String(await findFreePort()),
    WORKER_METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: process.env.PODIUM_NODE_OPTIONS ?? podiumNodeOptions,
  };
  const child = spawn(process.execPath, [path.join(distDir, 'infra', 'start.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('[podium] ready')) resolve();
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) =>
      reject(new Error(`podium exited (${code}) before it was ready:\n${output.slice(-2_000)}`)),
    );
  });
  await ready;
  const stopped = new Promise((resolve) => child.once('exit', resolve));
  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${port}`,
    nodeOptions: env.NODE_OPTIONS,
    stop: async () => {
      child.kill('SIGTERM');
      await stopped;
    },
  };
}

async function main() {
  console.log('building dist/ (what production runs) …');
  await buildDist(() => {});
  const dataDir = await mkdtemp(path.join(tmpdir(), 'podium-bench-memory-'));
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as its own user, which must reach its data dir
  const podium = await startPodium(dataDir);
  try {
    const api = apiClient(podium.baseUrl);
    const tokens = await Promise.all(Array.from({ length: clients }, () => api.anonymousToken()));
    const warmRequest = async (n: number) => {
      const token = tokens[n % clients]!;
      const id = await api.submitAccepted(token, { model: 'echo', input: echoInput });
      const request = await api.waitForEnd(token, id);
      if (request.status !== 'COMPLETE')
        throw new Error(`request ${id} ended ${request.status}: ${JSON.stringify(request.error)}`);
    };
    // The pool starts the echo instance for the first requests; idle is measured warm.
    await fromConcurrentClients(clients * 4, clients, warmRequest);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const look = async (after: string, seconds: number) => ({
      after,
      seconds,
      rss: residentMegabytesOf(podium.pid),
      heap: await heapOf(podium.baseUrl),
    });
    const figures = [await look('idle (warm pool, before the load)', 0)];
    for (const batch of [1, 2]) {
      const t0 = performance.now();
      await fromConcurrentClients(requests, clients, warmRequest);
      const seconds = (performance.now() - t0) / 1000;
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      figures.push(await look(`${batch * requests} warm requests`, seconds));
    }

    console.log(
      `\nRSS of the API + worker process (node dist/infra/start.js; NODE_OPTIONS '${podium.nodeOptions}'), ${clients} clients:`,
    );
    const mb = (value: number) => `${value.toFixed(0).padStart(5)} MB`;
    for (const { after, rss, heap, seconds } of figures) {
      console.log(
        `  after ${after.padEnd(36)} ${mb(rss)}   V8 heap ${mb(heap.used)} used of ${mb(heap.total)}, external ${mb(heap.external)}` +
          (seconds ? `   (${(requests / seconds).toFixed(1)} requests/s)` : ''),
      );
    }
    const [idle, first, second] = figures.map((f) => f.rss) as [number, number, number];
    console.log(
      `  targets: idle ≤ 300 MB (${idle.toFixed(0)}: ${idle <= 300 ? 'met' : 'NOT met'}), ` +
        `after load ≤ 2× idle (×${(second / idle).toFixed(2)}: ${second <= 2 * idle ? 'met' : 'NOT met'}), ` +
        `flat across the second batch (${(second - first >= 0 ? '+' : '') + (second - first).toFixed(0)} MB, ${Math.abs(second - first) <= 0.1 * first ? 'flat' : 'NOT flat'})`,
    );
  } finally {
    await podium.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
