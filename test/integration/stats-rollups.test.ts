import { randomUUID } from 'node:crypto';
import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/connection-pool';
import { z } from 'zod';
import { queryStats } from '../../db/stats';
import { backfillRollups } from '../../db/stats-rollups';
import { sketchOf, type LatencySketch } from '../../domain/latency-sketch';
import { statsQuery } from '../../domain/stats-query';
import { eventually } from '../support/eventually';
import { runPodiumCli } from '../support/podium-cli';
import { seededRandom } from '../support/seeded-random';
import { readTestEnv } from '../support/services';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();

// ---- the rollups as they must be, recomputed here from the raw rows -------------------------

const rawRow = z.object({
  model: z.string(),
  success: z.boolean(),
  hour: z.string(),
  day: z.string(),
  month: z.string(),
  queueWait: z.number().nullable(),
  processing: z.number().nullable(),
  total: z.number(),
});

type Rollup = {
  count: number;
  assigned: number;
  sums: number[];
  maxima: Array<number | null>;
  sketches: LatencySketch[];
};

const utc = (column: string) =>
  sql.fragment`to_char(date_trunc(${column}, request_timestamp, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')`;
const micros = (later: string, earlier: string) =>
  sql.fragment`(extract(epoch FROM ${sql.identifier([later])} - ${sql.identifier([earlier])}) * 1000000)::bigint::float8`;

/** Every rollup row (hour, day, month) that request_stats implies, keyed span|model|start|outcome, with sketches from domain/latency-sketch. */
async function recomputed(db: DatabasePool = stack.db): Promise<Map<string, Rollup>> {
  const rows = await db.any(sql.type(rawRow)`
    SELECT model_id AS model, result_success AS success, ${utc('hour')} AS hour, ${utc('day')} AS day, ${utc('month')} AS month,
           ${micros('pod_ready_timestamp', 'request_timestamp')} AS "queueWait",
           ${micros('processed_timestamp', 'pod_ready_timestamp')} AS processing,
           ${micros('processed_timestamp', 'request_timestamp')} AS total
      FROM request_stats`);
  const groups = new Map<string, Array<z.infer<typeof rawRow>>>();
  for (const row of rows) {
    for (const [span, start] of [
      ['hour', row.hour],
      ['day', row.day],
      ['month', row.month],
    ]) {
      const key = `${span}|${row.model}|${start}|${row.success}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
  }
  const summed = (members: Array<z.infer<typeof rawRow>>) => {
    const timings = (['queueWait', 'processing', 'total'] as const).map((name) =>
      members.map((m) => m[name]).filter((us) => us !== null),
    );
    return {
      count: members.length,
      assigned: timings[0]!.length,
      sums: timings.map((us) => us.reduce((sum, value) => sum + value, 0)),
      maxima: timings.map((us) => (us.length === 0 ? null : Math.max(...us))),
      sketches: timings.map((us) => sketchOf(us.map((value) => value / 1000))),
    };
  };
  return new Map([...groups].map(([key, members]) => [key, summed(members)]));
}

const storedRow = z.object({
  key: z.string(),
  count: z.number(),
  assigned: z.number(),
  sums: z.array(z.number()),
  maxima: z.array(z.number().nullable()),
  sketches: z.array(z.record(z.string(), z.number())),
});

async function stored(db: DatabasePool = stack.db): Promise<Map<string, Rollup>> {
  const rows = await db.any(sql.type(storedRow)`
    SELECT span || '|' || model_id || '|' || to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') || '|' || result_success AS key,
           sum(count)::int AS count, sum(assigned)::int AS assigned,
           ARRAY[sum(queue_wait_us_sum), sum(processing_us_sum), sum(total_us_sum)]::float8[] AS sums,
           ARRAY[max(queue_wait_us_max), max(processing_us_max), max(total_us_max)]::float8[] AS maxima,
           json_build_array(latency_sketch_sum(array_agg(queue_wait_sketch)), latency_sketch_sum(array_agg(processing_sketch)),
                            latency_sketch_sum(array_agg(total_sketch))) AS sketches
      FROM request_stats_rollups
     GROUP BY span, model_id, start, result_success`);
  return new Map(rows.map(({ key, ...rollup }) => [key, rollup]));
}

async function expectRollupsToEqualTheRows(db: DatabasePool = stack.db) {
  const [actual, expected] = [await stored(db), await recomputed(db)];
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, rollup] of expected) expect({ key, ...actual.get(key) }).toEqual({ key, ...rollup });
}

// ---- workloads ------------------------------------------------------------------------------

type Stat = {
  model: string;
  requestId: string;
  attempt: number;
  success: boolean;
  request: number;
  podReady: number | null;
  processed: number;
};

/** Timings as they come: mostly ms to seconds, some never assigned, some zero-length. */
function randomStat(random: () => number, around: number): Stat {
  const request = around + Math.floor(random() * 3 * 86_400_000 * 1000) / 1000;
  const podReady = random() < 0.1 ? null : request + (random() < 0.05 ? 0 : Math.floor(random() * 5_000_000) / 1000);
  const processed = (podReady ?? request) + (random() < 0.05 ? 0 : Math.floor(random() * 2_000_000) / 1000);
  return {
    model: `model-${Math.floor(random() * 4)}`,
    requestId: randomUUID(),
    attempt: 1,
    success: random() < 0.9,
    request,
    podReady,
    processed,
  };
}

const at = (ms: number | null) => (ms === null ? null : sql.fragment`to_timestamp(${ms / 1000})`);
const values = (stat: Stat) =>
  sql.fragment`(${stat.model}, ${stat.requestId}, ${stat.attempt}, ${stat.success}, ${at(stat.request)}, ${at(stat.podReady)}, ${at(stat.processed)})`;
const insertStats = (db: Pick<DatabaseTransactionConnection, 'query'>, stats: Stat[]) =>
  db.query(sql.unsafe`
    INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
    VALUES ${sql.join(stats.map(values), sql.fragment`, `)}
    ON CONFLICT (request_id, attempt) DO NOTHING`);

const around = Date.UTC(2026, 10, 20);

describe('stats rollups stay equal to request_stats', () => {
  it('through requests, re-queues, concurrent and batch inserts, duplicates, deletions, updates and a truncate', async () => {
    // The request path: completed and failed requests, and a failed one re-queued (attempt 2).
    const token = await stack.api.anonymousToken();
    const admin = (await stack.signUpAdmin()).token;
    const submitted = await Promise.all(
      [1, 2, 3].map(() => stack.api.submit(token, { model: 'echo', input: echoInput })),
    );
    const failing = await stack.api.submit(token, { model: 'fail', input: echoInput });
    for (const { body } of [...submitted, failing]) await stack.api.waitUntilFinal(token, body.id);
    expect(
      (
        await stack.api.call('POST', `/api/admin/requests/${failing.body.id}/status`, {
          token: admin,
          json: { status: 'REQUESTED', reason: 'again' },
        })
      ).status,
    ).toBe(202);
    await eventually(
      () =>
        stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats WHERE request_id = ${failing.body.id}`),
      (attempts) => attempts === 2,
      15_000,
    );
    await expectRollupsToEqualTheRows();

    // Four writers at once into the same hours (the rollup rows they share are locked in turn),
    // one row per statement as the request path writes them.
    const random = seededRandom(20);
    const writers = Array.from({ length: 4 }, () => Array.from({ length: 60 }, () => randomStat(random, around)));
    await Promise.all(
      writers.map(async (stats) => {
        for (const stat of stats) await insertStats(stack.db, [stat]);
      }),
    );
    // Each writer counts into its backend's stripe of a period (migration 024): they meet on a row less often.
    const stripeWriters = await Promise.all(
      [0, 1].map(async () => {
        let connected: { stripe: number; hour: string } | undefined;
        await stack.db.connect(async (connection) => {
          const stat = { ...randomStat(random, around), model: 'model-striped' };
          await insertStats(connection, [stat]);
          connected = {
            stripe: await connection.oneFirst(
              sql.type(z.object({ stripe: z.number() }))`SELECT pg_backend_pid() % 8 AS stripe`,
            ),
            hour: new Date(Math.floor(stat.request / 3_600_000) * 3_600_000).toISOString(),
          };
        });
        return connected!;
      }),
    );
    for (const { stripe, hour } of stripeWriters) {
      expect(
        await stack.db.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM request_stats_rollups
         WHERE span = 'hour' AND model_id = 'model-striped' AND start = ${hour}::timestamptz AND stripe = ${stripe}`),
      ).toBeGreaterThan(0);
    }
    // A batch in one statement, some of it already there (ON CONFLICT DO NOTHING), and a second attempt.
    const batch = Array.from({ length: 400 }, () => randomStat(random, around));
    await insertStats(stack.db, [
      ...batch,
      ...writers[0]!.slice(0, 10),
      { ...writers[1]![0]!, attempt: 2, success: false },
    ]);
    // A transaction that is rolled back leaves nothing behind.
    await stack.db
      .transaction(async (transaction) => {
        await insertStats(
          transaction,
          Array.from({ length: 20 }, () => randomStat(random, around)),
        );
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));
    await expectRollupsToEqualTheRows();

    // Deletions (a maximum among them), a retention-style cut, updates that move rows between days.
    await stack.db.query(
      sql.unsafe`DELETE FROM request_stats WHERE id IN (SELECT id FROM request_stats ORDER BY random() LIMIT 50)`,
    );
    await stack.db.query(sql.unsafe`
      DELETE FROM request_stats WHERE id = (SELECT id FROM request_stats ORDER BY processed_timestamp - request_timestamp DESC LIMIT 1)`);
    await stack.db.query(
      sql.unsafe`DELETE FROM request_stats WHERE request_timestamp < ${new Date(around + 86_400_000).toISOString()}::timestamptz`,
    );
    await stack.db.query(sql.unsafe`
      UPDATE request_stats SET result_success = NOT result_success, request_timestamp = request_timestamp - interval '1 day',
                               pod_ready_timestamp = pod_ready_timestamp - interval '1 day', processed_timestamp = processed_timestamp - interval '1 day'
       WHERE id IN (SELECT id FROM request_stats ORDER BY random() LIMIT 30)`);
    await expectRollupsToEqualTheRows();

    await stack.db.query(sql.unsafe`TRUNCATE request_stats`);
    expect(await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats_rollups`)).toBe(0);
  }, 60_000);

  it("the session's time zone changes nothing, across a DST change", async () => {
    await stack.db.query(sql.unsafe`TRUNCATE request_stats`);
    const random = seededRandom(22);
    const nearDstEnd = Date.UTC(2026, 9, 31); // New York leaves DST on 1 November 2026
    await stack.db.transaction(async (transaction) => {
      await transaction.query(sql.unsafe`SET LOCAL TIME ZONE 'America/New_York'`);
      await insertStats(
        transaction,
        Array.from({ length: 200 }, () => randomStat(random, nearDstEnd)),
      );
      await transaction.query(
        sql.unsafe`DELETE FROM request_stats WHERE id IN (SELECT id FROM request_stats ORDER BY random() LIMIT 20)`,
      );
    });
    await expectRollupsToEqualTheRows();
    for (const raw of [
      { rollup: 'model', from: '2026-11-01', to: '2026-11-02' },
      { bucket: 'day', tz: 'America/New_York' },
    ]) {
      const query = statsQuery.parse(raw);
      const inUtc = await queryStats(stack.db, query);
      const inNewYork = await stack.db.transaction(async (transaction) => {
        await transaction.query(sql.unsafe`SET LOCAL TIME ZONE 'America/New_York'`);
        return queryStats(transaction, query);
      });
      expect(inNewYork).toEqual(inUtc);
      expect(inUtc.source.kind).toBe('rollups');
    }
  });

  it('migration 021 rolls up the stats an installation already had', async () => {
    const schema = `podium_upgrade_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
    const databaseUrl = readTestEnv('databaseUrl');
    await migrate(databaseUrl, schema, false, 20);
    const db = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 2 });
    try {
      const random = seededRandom(23);
      await insertStats(
        db,
        Array.from({ length: 300 }, () => randomStat(random, Date.UTC(2026, 8, 29))),
      );
      expect(await migrate(databaseUrl, schema)).toContain('021_request_stats_rollups.sql');
      await expectRollupsToEqualTheRows(db);
      expect(await db.oneFirst(sql.unsafe`SELECT pending_through_id FROM request_stats_rollup_state`)).toBeNull();
    } finally {
      await db.query(sql.unsafe`DROP SCHEMA ${sql.identifier([schema])} CASCADE`);
      await db.end();
    }
  });

  it('a backfill rolls up rows written without them; until then grouped stats are read from the rows, saying why', async () => {
    await stack.db.query(sql.unsafe`TRUNCATE request_stats`);
    const random = seededRandom(21);
    const old = Array.from({ length: 300 }, () => randomStat(random, Date.UTC(2026, 9, 1)));
    // As rows written before migration 021: no trigger fires (replica mode), and they are pending.
    await stack.db.transaction(async (transaction) => {
      await transaction.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
      await insertStats(transaction, old);
      await transaction.query(
        sql.unsafe`UPDATE request_stats_rollup_state SET pending_through_id = (SELECT max(id) FROM request_stats)`,
      );
    });
    await insertStats(
      stack.db,
      Array.from({ length: 50 }, () => randomStat(random, Date.UTC(2026, 9, 1))),
    );

    const byModel = statsQuery.parse({ rollup: 'model' });
    const before = await queryStats(stack.db, byModel);
    expect(before.source).toEqual({
      kind: 'rows',
      percentileRelativeError: 0,
      reason: expect.stringContaining('stats backfill'),
    });
    expect(before.rows.reduce((sum, row) => sum + ('count' in row ? row.count : 0), 0)).toBe(350);

    const podium = (...args: string[]) =>
      runPodiumCli({ DATABASE_URL: readTestEnv('databaseUrl'), DATABASE_SCHEMA: stack.schema }, ...args);
    const backfill = await podium('stats', 'backfill');
    expect(backfill.code).toBe(0);
    expect(backfill.output).toMatch(/^2026-10-01: 1\/3 days, \d+ rows rolled up\n/);
    expect(backfill.output).toMatch(
      /2026-10-03: 3\/3 days, 350 rows rolled up\nrolled up 350 rows over 3 days in [\d.]+ s; grouped stats now come from the rollups\n$/,
    );
    await expectRollupsToEqualTheRows();

    const after = await queryStats(stack.db, byModel);
    expect(after.source.kind).toBe('rollups');
    expect(after.rows.map((row) => ('count' in row ? row.count : 0))).toEqual(
      before.rows.map((row) => ('count' in row ? row.count : 0)),
    );
    expect(await podium('stats', 'backfill')).toEqual({
      code: 0,
      output: 'the rollups are complete: nothing to backfill\n',
    });
    expect(await backfillRollups(stack.db)).toEqual({ days: 0, rows: 0 });
  });
});
