// Benchmark: a worker's start-up, from the process's start to polling (its `worker-ready` line),
// run from the release image (issue 18: ≤ 3 s, no webpack at start), against the same worker
// run from the checkout with tsx, which bundles its workflows at start. Same services, same run.
// Run with `npm run bench:image-startup` (as root: the image runs chrooted; BENCH_STARTS per way).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { buildAppImage } from '../../infra/release/images';
import { buildInfo } from '../../lib/build-info';
import { stopChild, untilReadyLine } from '../../infra/child-process';
import { testWebhookSecret } from '../support/test-stack';
import { unpackImage } from '../../infra/release/unpacked-image';
import { workerTargetOf } from '../support/worker-process';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const starts = Number(process.env.BENCH_STARTS ?? 5);

runBenchmark(async (stack) => {
  const target = workerTargetOf(stack);
  const env = {
    DATABASE_URL: target.databaseUrl,
    DATABASE_SCHEMA: target.schema,
    TEMPORAL_ADDRESS: target.temporalAddress,
    TEMPORAL_TASK_QUEUE: target.taskQueue,
    WEBHOOK_SECRET: testWebhookSecret,
    LOG_LEVEL: 'error',
    WORKER_METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
  };
  const image = await buildAppImage(() => undefined);
  const unpacked = await unpackImage(image.archive, buildInfo().version);
  try {
    /** ms from spawning `command` to its worker-ready line; the worker is then stopped. */
    const timeToPolling = async (command: string, args: string[], childEnv: NodeJS.ProcessEnv): Promise<number> => {
      const started = performance.now();
      const child = spawn(command, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
      await untilReadyLine(child, (line) => line.includes('worker-ready'), 'the worker');
      const elapsed = performance.now() - started;
      await stopChild(child);
      return elapsed;
    };
    const fromImage: number[] = [];
    const fromCheckout: number[] = [];
    for (let i = 0; i < starts; i++) {
      fromImage.push(
        await timeToPolling(
          '/usr/sbin/chroot',
          ['--userspec=10001:10001', unpacked.rootfs, '/usr/local/bin/node', '/app/dist/infra/worker-main.js'],
          {
            PATH: '/usr/local/bin:/usr/bin:/bin',
            NODE_ENV: 'production',
            ...env,
          },
        ),
      );
      fromCheckout.push(
        await timeToPolling(process.execPath, ['--import', 'tsx', 'infra/worker-main.ts'], { ...process.env, ...env }),
      );
    }
    const rows = [
      summary('worker from the image (pre-built bundle)', fromImage),
      summary('worker from the checkout (tsx, bundles at start)', fromCheckout),
    ];
    console.log(`${image.name}: ${image.digest}, ${(image.bytes / 1e6).toFixed(1)} MB uncompressed (target ≤ 250 MB)`);
    console.table(
      rows.map((row) => ({
        ...row,
        p50: row.p50.toFixed(0),
        p99: row.p99.toFixed(0),
        mean: row.mean.toFixed(0),
        max: row.max.toFixed(0),
      })),
    );
    console.log(
      `start → polling from the image: p50 ${rows[0]!.p50.toFixed(0)} ms, max ${rows[0]!.max.toFixed(0)} ms (target ≤ 3000); from the checkout: p50 ${rows[1]!.p50.toFixed(0)} ms`,
    );
  } finally {
    await unpacked.remove();
  }
});
