// Benchmark: what one request costs, measured on the multi-service Temporal cluster as
// production runs it, for a warm request (a free slot on a ready instance), a queued one (waits
// for the one slot) and a cold one (no instance: one is started, then stopped after it):
// - Temporal: actions (the frontend's `action` counter, what Temporal counts as billable),
//   state transitions (history's `state_transition_count`), history events (every workflow's
//   history length before and after, from DescribeWorkflowExecution);
// - PostgreSQL: top-level statements (pg_stat_statements), commits (pg_stat_database) and WAL
//   bytes (pg_walinspect) for Podium's database and Temporal's two;
// - CPU of each component (/proc): the API, the worker, PostgreSQL, each Temporal process.
// An idle window first measures the background (long-running workflows, idle processes), which
// is taken off each class's figures. The figures behind docs/scaling.md.
// Run with `npm run bench:cost` (BENCH_WARM, BENCH_QUEUED, BENCH_COLD: requests per class).
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { requestWorkflowTypes } from '../../workflows/contracts';
import { addTestModel } from '../support/models';
import type { TestStack } from '../support/test-stack';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';
import { growthBetween, perOperation, readCounters, total, type CounterGrowth } from './cost-counters';
import { percentile } from './figures';
import { historyEventsSince, historyLengths } from './history-events';
import { runBenchmark } from './run-benchmark';

process.env.PODIUM_PG_PROFILE = '1';
const warmRequests = Number(process.env.BENCH_WARM ?? 200);
const queuedRequests = Number(process.env.BENCH_QUEUED ?? 100);
const coldRequests = Number(process.env.BENCH_COLD ?? 16);
const idleSeconds = 20;
/** After a class's last request: its stats, its signals to the pool and visibility settle. */
const settleMs = 3_000;

const echo = (delayMs: number) => ({
  inputs: [{ name: 'numbers', shape: [2], datatype: 'FP32', data: [1, 2] }],
  parameters: { delay_ms: delayMs },
});

type Window = { growth: CounterGrowth; events: Awaited<ReturnType<typeof historyEventsSince>> };
type ClassFigures = {
  name: string;
  requests: number;
  latencies: number[];
  cost: CounterGrowth;
  events: Window['events'];
  backgroundEvents: number;
};

async function benchmark(stack: TestStack) {
  const processes = stack.services.temporalProcesses;
  if (!processes) throw new Error('bench:cost runs on the multi-service cluster');
  const worker: ChildProcess = await startWorkerProcess(workerTargetOf(stack));
  try {
    await stack.db.query(sql.unsafe`CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public`);
    await stack.db.query(sql.unsafe`CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA public`);
    await addTestModel(stack.db, {
      id: 'cost-warm',
      minInstances: 1,
      maxInstances: 1,
      maxConcurrency: 4,
      keepWarmSeconds: 600,
    });
    await addTestModel(stack.db, {
      id: 'cost-queued',
      minInstances: 1,
      maxInstances: 1,
      maxConcurrency: 1,
      keepWarmSeconds: 600,
    });
    await addTestModel(stack.db, { id: 'cost-cold', minInstances: 0, maxInstances: 1, keepWarmSeconds: 0 });
    const token = await stack.api.anonymousToken();
    const request = async (model: string, delayMs = 0) => {
      const t0 = performance.now();
      const id = await stack.api.submitAccepted(token, { model, input: echo(delayMs) });
      const { status, body } = await stack.api.call('GET', `/api/requests/${id}?wait=60`, { token });
      if (status !== 200 || body.status !== 'COMPLETE')
        throw new Error(`request ${id}: ${status} ${JSON.stringify(body)}`);
      return performance.now() - t0;
    };
    // The warm and queued models' instances up, every path once (JIT, pools).
    await Promise.all([...Array.from({ length: 8 }, () => request('cost-warm')), request('cost-queued')]);
    const liveInstances = (model: string) =>
      stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM model_instances WHERE model_id = ${model} AND status NOT IN ('TERMINATED', 'FAILED')`);
    const untilNoInstance = async (model: string) => {
      while ((await liveInstances(model)) > 0) await sleep(200);
    };

    const pids: Record<string, number> = { 'Podium worker': worker.pid! };
    for (const [name, process_] of Object.entries(processes)) pids[`Temporal ${name}`] = process_.pid!;
    const measure = async (work: () => Promise<number[]>): Promise<Window & { latencies: number[] }> => {
      const lengths = await historyLengths(stack.temporal);
      const since = new Date();
      const before = await readCounters({ db: stack.db, processes, pids });
      const latencies = await work();
      await sleep(settleMs);
      const after = await readCounters({ db: stack.db, processes, pids });
      const growth = await growthBetween(stack.db, before, after);
      const events = await historyEventsSince(stack.temporal, lengths, since, requestWorkflowTypes);
      return { growth, events, latencies };
    };

    console.error(`[bench] idle ${idleSeconds} s`);
    const idle = await measure(async () => {
      await sleep(idleSeconds * 1000 - settleMs);
      return [];
    });
    const classes: ClassFigures[] = [];
    const run = async (name: string, requests: number, work: () => Promise<number[]>) => {
      console.error(`[bench] ${name}: ${requests} requests`);
      const window = await measure(work);
      const backgroundEvents = (idle.events.all * window.growth.seconds) / idle.growth.seconds;
      classes.push({
        name,
        requests: window.latencies.length,
        latencies: window.latencies,
        cost: perOperation(window.growth, idle.growth, window.latencies.length),
        events: window.events,
        backgroundEvents,
      });
    };
    await run('warm', warmRequests, async () => {
      const latencies: number[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < warmRequests / 4; i++) latencies.push(await request('cost-warm'));
        }),
      );
      return latencies;
    });
    await run('queued', queuedRequests, async () => {
      // Bursts of 10 on one slot: all but the first of each wait for it.
      const latencies: number[] = [];
      for (let burst = 0; burst < queuedRequests / 10; burst++)
        latencies.push(...(await Promise.all(Array.from({ length: 10 }, () => request('cost-queued', 20)))));
      return latencies;
    });
    await run('cold', coldRequests, async () => {
      // Each request finds no instance; the one it started is stopped before the next.
      const latencies: number[] = [];
      for (let i = 0; i < coldRequests; i++) {
        await untilNoInstance('cost-cold');
        latencies.push(await request('cost-cold'));
      }
      await untilNoInstance('cost-cold');
      return latencies;
    });
    printFigures(classes, idle);
  } finally {
    await stopWorkerProcess(worker);
  }
}

function printFigures(classes: ClassFigures[], idle: Window) {
  const row = (label: string, value: (c: ClassFigures) => string) =>
    console.log(`| ${label} | ${classes.map(value).join(' | ')} |`);
  const n = (value: number, digits = 1) => value.toFixed(digits);
  const keys = (pick: (c: ClassFigures) => Record<string, number>) =>
    [...new Set(classes.flatMap((c) => Object.keys(pick(c))))].sort();
  console.log(`\ncost of one request on the multi-service Temporal cluster (per request, background taken off)\n`);
  console.log(`| per request | ${classes.map((c) => `${c.name} (${c.requests})`).join(' | ')} |`);
  console.log(`|---|${classes.map(() => '---').join('|')}|`);
  row('submit → COMPLETE p50', (c) => `${n(percentile(c.latencies, 50))} ms`);
  // The idle rate taken off is scaled to this: a long window of few requests (cold) has the
  // least precise CPU figures.
  row('window per request', (c) => `${n(c.cost.seconds * 1000, 0)} ms`);
  row('**Temporal actions**', (c) => `**${n(total(c.cost.actions), 2)}**`);
  for (const type of keys((c) => c.cost.actions).filter((t) =>
    classes.some((c) => Math.abs(c.cost.actions[t] ?? 0) >= 0.005),
  ))
    row(`  ${type}`, (c) => n(c.cost.actions[type] ?? 0, 2));
  row('Temporal state transitions (all workflows)', (c) => n(c.cost.stateTransitions, 2));
  row('history events (all workflows)', (c) => n((c.events.all - c.backgroundEvents) / c.requests, 2));
  row('  of which the request workflow’s own', (c) => n(c.events.requestEvents / c.events.requestWorkflows, 2));
  row('  request workflow’s state transitions', (c) =>
    n(c.events.requestStateTransitions / c.events.requestWorkflows, 2),
  );
  for (const db of keys((c) => c.cost.statements))
    row(`PostgreSQL statements, ${db}`, (c) => n(c.cost.statements[db] ?? 0));
  for (const db of keys((c) => c.cost.commits)) row(`PostgreSQL commits, ${db}`, (c) => n(c.cost.commits[db] ?? 0));
  for (const db of keys((c) => c.cost.walBytes)) row(`WAL bytes, ${db}`, (c) => n(c.cost.walBytes[db] ?? 0, 0));
  row('**WAL bytes, all**', (c) => `**${n(total(c.cost.walBytes), 0)}**`);
  for (const db of keys((c) => c.cost.bytes))
    row(`database growth on disk, ${db} (bytes)`, (c) => n(c.cost.bytes[db] ?? 0, 0));
  for (const part of keys((c) => c.cost.cpuMs)) row(`CPU ms, ${part}`, (c) => n(c.cost.cpuMs[part] ?? 0, 2));
  row('**CPU ms, all**', (c) => `**${n(total(c.cost.cpuMs), 2)}**`);
  const perSecond = (value: number) => n(value / idle.growth.seconds, 2);
  console.log(
    `\nbackground, per second idle (taken off above): ${perSecond(total(idle.growth.actions))} actions, ` +
      `${perSecond(idle.growth.stateTransitions)} state transitions, ${perSecond(idle.events.all)} history events, ` +
      `${perSecond(total(idle.growth.commits))} commits, ${perSecond(total(idle.growth.walBytes))} WAL bytes, ` +
      `${perSecond(total(idle.growth.cpuMs))} CPU ms`,
  );
}

runBenchmark(benchmark, { temporal: 'cluster', worker: false });
