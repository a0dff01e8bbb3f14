// Benchmark (issue 35): a pool that scales on its line's measured load (Little's law) against one
// that starts a slot per waiter (`npm run bench:queue-scaling`). The same trace runs twice, each
// under a worker process of its own (POOL_SCALING=waiters, then load), on a model of its own:
// an echo that takes BENCH_SERVICE_MS (800) per request on 2 slots per instance, and loads for
// ECHO_LOAD_MS (3,000) before it answers, as a model loading its weights does; max 6 instances.
//   0 s   1 request a second;
//   20 s  6 a second (4.8 slots busy: 3 instances at the least);
//   50 s  1 a second again, until 70 s.
// Reaction: from the step until the instances the new rate needs are ready, and the waits of the
// requests sent in the busy phase. Cost: instance-seconds over the trace, each instance from its
// start to its end (or the trace's end). Lower bound, as bench:autoscaler:consolidation's: at
// each moment the fewest instances whose slots can carry the rate then (rate × service time ÷
// slots, rounded up), with no start-up time, integrated over the trace.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { addTestModel } from '../support/models';
import { seededRandom } from '../support/seeded-random';
import { echoInput, type TestStack } from '../support/test-stack';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';
import { percentile } from './figures';
import { runBenchmark } from './run-benchmark';

const serviceMs = Number(process.env.BENCH_SERVICE_MS ?? 800);
const loadMs = Number(process.env.ECHO_LOAD_MS ?? 3_000);
const slots = 2;
const maxInstances = 6;
/** The trace: from each second on, this many requests a second. */
const phases = [
  { from: 0, perSecond: 1 },
  { from: 20, perSecond: 6 },
  { from: 50, perSecond: 1 },
];
const traceSeconds = 70;
const busy = phases[1]!;

const rateAt = (second: number) => phases.filter((p) => p.from <= second).at(-1)!.perSecond;
const instancesFor = (perSecond: number) => Math.ceil((perSecond * serviceMs) / 1000 / slots);

runBenchmark(
  async (stack) => {
    const lowerBound = Array.from({ length: traceSeconds }, (_, s) => instancesFor(rateAt(s))).reduce((a, b) => a + b);
    console.log(
      `queue scaling: service ${serviceMs} ms, ${slots} slots an instance, load ${loadMs} ms, max ${maxInstances}; ` +
        `1/s, ${busy.perSecond}/s from ${busy.from} s, 1/s from ${phases[2]!.from} s, ${traceSeconds} s\n` +
        `lower bound: ${lowerBound} instance-seconds (${instancesFor(busy.perSecond)} instances in the busy phase)\n`,
    );
    for (const policy of ['waiters', 'load'] as const) {
      const worker = await startWorkerProcess(workerTargetOf(stack), { POOL_SCALING: policy, LOG_LEVEL: 'error' });
      try {
        console.log(`${policy.padEnd(7)}: ${await runTrace(stack, `scale-${policy}`, lowerBound)}`);
      } finally {
        await stopWorkerProcess(worker);
      }
    }
  },
  { worker: false, env: { REQUESTS_IN_FLIGHT_PER_OWNER: '10000', REQUESTS_PER_MINUTE_PER_OWNER: '100000' } },
);

async function runTrace(stack: TestStack, modelId: string, lowerBound: number): Promise<string> {
  await addTestModel(stack.db, {
    id: modelId,
    maxInstances,
    maxConcurrency: slots,
    keepWarmSeconds: 10,
    startupTimeoutSeconds: 60,
    env: { ECHO_LOAD_MS: String(loadMs) },
  });
  const token = await stack.api.anonymousToken();
  const input = { ...echoInput, parameters: { delay_ms: serviceMs } };
  // One request first, so the model's service time is measured (the load policy reads it).
  await stack.api.waitForEnd(token, await stack.api.submitAccepted(token, { model: modelId, input }), 120_000);

  const random = seededRandom(35);
  const start = Date.now();
  const sent: { id: string; at: number }[] = [];
  const submissions: Promise<void>[] = [];
  for (;;) {
    const second = (Date.now() - start) / 1000;
    if (second >= traceSeconds) break;
    submissions.push(
      stack.api.submitAccepted(token, { model: modelId, input }).then((id) => void sent.push({ id, at: second })),
    );
    await sleep((-Math.log(1 - random()) / rateAt(second)) * 1000);
  }
  await Promise.all(submissions);
  for (const { id } of sent) await stack.api.waitForEnd(token, id, 300_000);
  const end = start + traceSeconds * 1000;

  const waits = await stack.db.any(sql.type(z.object({ id: z.string(), wait: z.number() }))`
    SELECT id, date_part('epoch', started_at - created_at) * 1000 AS wait
      FROM work_requests WHERE id = ANY(${sql.array(
        sent.map((s) => s.id),
        'uuid',
      )}) AND started_at IS NOT NULL`);
  const sentAt = new Map(sent.map((s) => [s.id, s.at]));
  const busyWaits = waits
    .filter((w) => sentAt.get(w.id)! >= busy.from && sentAt.get(w.id)! < phases[2]!.from)
    .map((w) => w.wait);
  const instances = await stack.db.any(sql.type(
    z.object({ created: z.number(), ready: z.number().nullable(), ended: z.number().nullable() }),
  )`
    SELECT i.created_at AS created,
           (SELECT min(occurred_at) FROM model_instance_log g WHERE g.instance_id = i.id AND g.event = 'READY') AS ready,
           (SELECT min(occurred_at) FROM model_instance_log g
             WHERE g.instance_id = i.id AND g.event IN ('STOPPING', 'TERMINATED', 'FAILED')) AS ended
      FROM model_instances i WHERE i.model_id = ${modelId}`);
  const instanceSeconds =
    instances.reduce((sum, i) => sum + Math.max(0, Math.min(i.ended ?? end, end) - Math.max(i.created, start)), 0) /
    1000;
  // Reaction: when as many instances as the busy rate needs were ready at once, after the step.
  const step = start + busy.from * 1000;
  const needed = instancesFor(busy.perSecond);
  const readyAt = (t: number) =>
    instances.filter((i) => i.ready !== null && i.ready <= t && (i.ended ?? Infinity) > t).length;
  const enoughAt = instances
    .map((i) => i.ready)
    .filter((t): t is number => t !== null && t >= step)
    .sort((a, b) => a - b)
    .find((t) => readyAt(t) >= needed);
  return [
    `${instances.length} instances started`,
    `${needed} ready ${enoughAt === undefined ? 'never' : `${((enoughAt - step) / 1000).toFixed(1)} s after the step`}`,
    `busy-phase wait p50 ${Math.round(percentile(busyWaits, 50))} ms, p99 ${Math.round(percentile(busyWaits, 99))} ms (n ${busyWaits.length})`,
    `cost ${instanceSeconds.toFixed(0)} instance-seconds = ${(instanceSeconds / lowerBound).toFixed(2)}× the lower bound`,
  ].join('; ');
}
