// Benchmark: how many leases and releases per second one model's slots take, against
// PostgreSQL alone (`npm run bench:slots`). Every change to one model's queue takes that model's
// advisory lock exclusive; while nobody waits, leases and releases take it shared (migration 023),
// so that one popular model is not capped by one lock whatever the cluster's size.
//
// BENCH_CALLERS concurrent callers (32) each loop for BENCH_SECONDS (10): lease a slot, release
// it, on one model whose ready instances have a slot for every caller (nobody waits): the slots
// alone (lease_free_slot + release_slot, the model's lock shared), then the warm path
// (begin_warm_request + finish_warm_request, which also end the request and write its stats
// row), then the same through the general path (acquireSlot + releaseSlot, lease bookkeeping
// only), then the general path with half the slots (callers wait in line: exact FIFO). A warm
// lease can find no slot while every free one is being claimed by others; it is counted.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql, type DatabasePool } from 'slonik';
import { acquireSlot, releaseSlot } from '../../db/instance-slots';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/connection-pool';
import { beginWarmRequest, finishWarmRequest } from '../../db/warm-requests';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { findFreePort } from '../../lib/ports';
import { addTestModel } from '../support/models';
import { echoInput } from '../support/test-stack';
import { percentile } from './figures';

const callers = Number(process.env.BENCH_CALLERS ?? 32);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const instances = 4;

/** A model with `slots` slots over its ready instances, and `count` waiting requests of an anonymous session. */
async function setUp(db: DatabasePool, modelId: string, slots: number, count: number): Promise<string[]> {
  await addTestModel(db, { id: modelId, maxInstances: instances, maxConcurrency: Math.ceil(slots / instances) });
  for (let i = 0; i < instances; i++) {
    await db.query(sql.unsafe`
      INSERT INTO model_instances (id, model_id, runtime, endpoint, status, slot_state, idle_since)
      VALUES (${randomUUID()}, ${modelId}, 'local', 'http://127.0.0.1:1', 'READY', 'READY', clock_timestamp())`);
  }
  const session = randomUUID();
  await db.query(
    sql.unsafe`INSERT INTO sessions (id, kind, expires_at) VALUES (${session}, 'anonymous', now() + interval '1 day')`,
  );
  const ids = await db.anyFirst(sql.unsafe`
    INSERT INTO work_requests (id, model_id, session_id, input, workflow_id)
    SELECT gen_random_uuid(), ${modelId}, ${session}, ${sql.jsonb(echoInput)}, 'request-' || gen_random_uuid()
      FROM generate_series(1, ${count})
    RETURNING id`);
  return ids as string[];
}

/**
 * `callers` loops taking the next request and running `pair` on it, for `seconds`: pairs a second
 * and their latency. A pair that answers false found no slot (a request would take the general
 * path): counted apart, not as a pair.
 */
async function run(ids: string[], pair: (requestId: string) => Promise<boolean | void>) {
  let next = 0;
  let missed = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline && next < ids.length) {
        const id = ids[next++]!;
        const t0 = performance.now();
        if ((await pair(id)) === false) missed++;
        else latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (next >= ids.length) throw new Error('ran out of requests: raise the count');
  return {
    perSecond: (latencies.length * 2) / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    pairs: latencies.length,
    missed,
  };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'podium-bench-slots-'));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as its own user, which must reach its data dir
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'postgres'),
    port: await findFreePort(),
    persistent: false,
  });
  const schema = `bench_slots_${randomUUID().slice(0, 8)}`;
  try {
    await migrate(postgres.databaseUrl, schema);
    const db = await createDatabasePool({ databaseUrl: postgres.databaseUrl, schema, maximumPoolSize: callers });
    const count = 60_000;
    const rows: Record<string, string>[] = [];
    const record = (name: string, figures: Awaited<ReturnType<typeof run>>) =>
      rows.push({
        path: name,
        'leases + releases /s': figures.perSecond.toFixed(0),
        'pair p50 ms': figures.p50.toFixed(1),
        'pair p99 ms': figures.p99.toFixed(1),
        'found no slot': String(figures.missed),
      });

    // What this client and PostgreSQL do with no lock at all: two trivial statements a pair.
    const trivial = Array.from({ length: count }, () => randomUUID());
    record(
      'baseline: two SELECT 1 (no lock, no write)',
      await run(trivial, async () => {
        await db.query(sql.unsafe`SELECT 1`);
        await db.query(sql.unsafe`SELECT 1`);
      }),
    );

    // The slot bookkeeping alone, as the warm path does it: the model's lock shared, a slot claimed by try-lock.
    const alone = await setUp(db, 'slots-alone', callers, count);
    record(
      'slots alone: lease_free_slot + release_slot (nobody waits)',
      await run(alone, async (requestId) => {
        const leased = await db.maybeOneFirst(sql.unsafe`
          SELECT instance_id FROM lease_free_slot(${requestId}, 'slots-alone', ${`request-${requestId}`}, now())`);
        if (!leased) return false;
        const released = await db.oneFirst(sql.unsafe`SELECT release_slot(${requestId}, 'slots-alone')`);
        if (released !== leased) throw new Error('not released');
      }),
    );

    const warm = await setUp(db, 'slots-warm', callers, count);
    const result = {
      model_name: 'echo',
      outputs: [{ name: 'text', shape: [1], datatype: 'BYTES' as const, data: ['hi'] }],
    };
    record(
      'warm path: begin_warm_request + finish_warm_request (nobody waits)',
      await run(warm, async (requestId) => {
        const begun = await beginWarmRequest(db, {
          requestId,
          workflowId: `request-${requestId}`,
          maxRequestTimeoutSeconds: 60,
        });
        if (begun.outcome === 'ELSEWHERE') return false;
        if (begun.outcome !== 'STARTED') throw new Error(`not started: ${begun.outcome}`);
        const ended = await finishWarmRequest(db, requestId, result);
        if (!ended.ended || !ended.released) throw new Error('not released');
      }),
    );

    const general = await setUp(db, 'slots-general', callers, count);
    const cycle = (modelId: string) => async (requestId: string) => {
      await acquireSlot(db, { modelId, requestId, workflowId: `request-${requestId}`, requestedAt: Date.now() });
      await releaseSlot(db, { modelId, requestId, healthy: true });
    };
    record('general path: acquireSlot + releaseSlot (nobody waits)', await run(general, cycle('slots-general')));

    const crowded = await setUp(db, 'slots-crowded', callers / 2, count);
    record('general path, half the slots (callers wait in line, FIFO)', await run(crowded, cycle('slots-crowded')));

    console.log(
      `\nslots of one model: ${callers} concurrent callers, ${seconds} s each, ${instances} ready instances, PostgreSQL alone`,
    );
    console.table(rows);
    console.log('target: ≥ 2,000 leases + releases a second for one model');
    await db.end();
  } finally {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
