import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { sql } from 'slonik';
import { queryStats } from '../../db/stats';
import { relativeAccuracy } from '../../domain/latency-sketch';
import { statsCsvColumns, statsCsvRecord, statsQuery, type StatsGroup, type StatsRow } from '../../domain/stats-query';
import { seededRandom } from '../support/seeded-random';
import { useTestStack } from '../support/test-stack';

/** A known data set: the test computes every expected figure from these rows itself. */
type Known = {
  id: string;
  model: string;
  success: boolean;
  request: number;
  podReady: number | null;
  processed: number;
};

let admin: string;
const known: Known[] = [];

async function insert(rows: Array<Omit<Known, 'id'>>): Promise<Known[]> {
  const inserted: Known[] = [];
  for (const row of rows) {
    const id = await stack.db.oneFirst(sql.unsafe`
      INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
      VALUES (${row.model}, ${randomUUID()}, 1, ${row.success}, to_timestamp(${row.request / 1000}),
              ${row.podReady === null ? null : sql.fragment`to_timestamp(${row.podReady / 1000})`}, to_timestamp(${row.processed / 1000}))
      RETURNING id::text`);
    inserted.push({ ...row, id: id as string });
  }
  return inserted;
}

const stack = useTestStack();
beforeAll(async () => {
  admin = (await stack.signUpAdmin()).token;
  const random = seededRandom(42);
  const start = Date.UTC(2026, 9, 30); // 2026-10-30
  const rows: Array<Omit<Known, 'id'>> = [];
  for (let i = 0; i < 150; i++) {
    const request = start + Math.floor(random() * 5 * 86_400_000);
    const neverAssigned = random() < 0.07;
    const podReady = neverAssigned ? null : request + Math.floor(random() * 2_000);
    const processed = (podReady ?? request) + 5 + Math.floor(random() * 800);
    rows.push({
      model: ['alpha', 'beta', 'gamma'][i % 3]!,
      success: !neverAssigned && random() > 0.2,
      request,
      podReady,
      processed,
    });
  }
  // Edges: the last millisecond of 1 November (UTC), and 23:30 UTC, which is 2 November in Berlin.
  rows.push({
    model: 'alpha',
    success: true,
    request: Date.UTC(2026, 10, 1, 23, 59, 59, 999),
    podReady: Date.UTC(2026, 10, 2),
    processed: Date.UTC(2026, 10, 2, 0, 0, 0, 100),
  });
  rows.push({
    model: 'beta',
    success: false,
    request: Date.UTC(2026, 10, 1, 23, 30),
    podReady: Date.UTC(2026, 10, 1, 23, 30, 1),
    processed: Date.UTC(2026, 10, 1, 23, 30, 2),
  });
  known.push(...(await insert(rows)));
});

// ---- what the answers must be, computed here from `known` --------------------------------

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

function timing(values: number[]) {
  return {
    avg: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    p50: percentileCont(values, 0.5),
    p90: percentileCont(values, 0.9),
    p99: percentileCont(values, 0.99),
    max: values.length ? Math.max(...values) : null,
  };
}

const dayStart = (ms: number, offsetMs = 0) => {
  const shifted = new Date(ms + offsetMs);
  return Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), shifted.getUTCDate()) - offsetMs;
};

function expectedRows(filter: { models?: string[]; from?: number; to?: number; status?: 'success' | 'failure' }) {
  return known
    .filter((r) => !filter.models || filter.models.includes(r.model))
    .filter((r) => filter.from === undefined || r.request >= filter.from)
    .filter((r) => filter.to === undefined || r.request < filter.to)
    .filter((r) => !filter.status || r.success === (filter.status === 'success'))
    .sort((a, b) => b.request - a.request || Number(b.id) - Number(a.id));
}

function expectedGroups(rows: Known[], keyOf: (row: Known) => string) {
  const groups = new Map<string, Known[]>();
  for (const row of rows) groups.set(keyOf(row), [...(groups.get(keyOf(row)) ?? []), row]);
  return new Map(
    [...groups].map(([key, members]) => {
      const assigned = members.filter((m) => m.podReady !== null);
      return [
        key,
        {
          count: members.length,
          successCount: members.filter((m) => m.success).length,
          failureCount: members.filter((m) => !m.success).length,
          queueWaitMs: timing(assigned.map((m) => m.podReady! - m.request)),
          processingMs: timing(assigned.map((m) => m.processed - m.podReady!)),
          totalMs: timing(members.map((m) => m.processed - m.request)),
        },
      ];
    }),
  );
}

/**
 * Counts exact, averages and maxima to float precision, percentiles within `percentileError` of
 * percentile_cont (relative): 0.01 from the rollups, 0 from the rows.
 */
function expectGroupsToMatch(
  actual: readonly StatsGroup[],
  expected: ReturnType<typeof expectedGroups>,
  keyOf: (group: StatsGroup) => string,
  percentileError = relativeAccuracy,
) {
  expect(actual.map(keyOf).sort()).toEqual([...expected.keys()].sort());
  for (const group of actual) {
    const want = expected.get(keyOf(group))!;
    expect({ count: group.count, successCount: group.successCount, failureCount: group.failureCount }).toEqual({
      count: want.count,
      successCount: want.successCount,
      failureCount: want.failureCount,
    });
    for (const metric of ['queueWaitMs', 'processingMs', 'totalMs'] as const) {
      for (const stat of ['avg', 'p50', 'p90', 'p99', 'max'] as const) {
        const exact = want[metric][stat];
        if (exact === null) expect(group[metric][stat]).toBeNull();
        else if (stat === 'avg' || stat === 'max') expect(group[metric][stat]).toBeCloseTo(exact, 3);
        else expect(Math.abs(group[metric][stat]! - exact)).toBeLessThanOrEqual(percentileError * exact + 1e-6);
      }
    }
  }
}

const query = (raw: Record<string, unknown>) => statsQuery.parse(raw);
const ids = (rows: readonly StatsRow[]) => rows.map((r) => r.id);
const nov = (day: number) => Date.UTC(2026, 10, day);

async function allPages(raw: Record<string, unknown>): Promise<StatsRow[]> {
  const rows: StatsRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryStats(stack.db, query({ ...raw, cursor }));
    if (page.grouped) throw new Error('expected raw rows');
    rows.push(...page.rows);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}

describe('stats DAO: filters', () => {
  it('no filter: every row, newest first, with its durations', async () => {
    const rows = await allPages({ limit: 40 });
    expect(ids(rows)).toEqual(expectedRows({}).map((r) => r.id));
    const sample = rows.find((r) => r.podReadyTimestamp !== null)!;
    const source = known.find((r) => r.id === sample.id)!;
    expect(sample).toMatchObject({
      model: source.model,
      status: source.success ? 'success' : 'failure',
      requestTimestamp: new Date(source.request).toISOString().replace('Z', '000Z'),
    });
    expect(sample.queueWaitMs).toBeCloseTo(source.podReady! - source.request, 3);
    expect(sample.processingMs).toBeCloseTo(source.processed - source.podReady!, 3);
    expect(sample.totalMs).toBeCloseTo(source.processed - source.request, 3);
  });

  it.each([
    ['one model', { model: 'beta' }, { models: ['beta'] }],
    ['several models', { model: 'alpha,gamma' }, { models: ['alpha', 'gamma'] }],
    ['from (a whole day, UTC)', { from: '2026-11-01' }, { from: nov(1) }],
    ['to (inclusive of the whole day)', { to: '2026-11-01' }, { to: nov(2) }],
    ['from and to', { from: '2026-10-31', to: '2026-11-01' }, { from: Date.UTC(2026, 9, 31), to: nov(2) }],
    ['successes', { status: 'success' }, { status: 'success' as const }],
    [
      'failures of one model on one day',
      { status: 'failure', model: 'alpha', from: '2026-11-01', to: '2026-11-01' },
      { status: 'failure' as const, models: ['alpha'], from: nov(1), to: nov(2) },
    ],
  ])('%s', async (_name, raw, filter) => {
    expect(ids(await allPages({ ...raw, limit: 1000 }))).toEqual(expectedRows(filter).map((r) => r.id));
  });

  it('`to` takes in the last millisecond of its day', async () => {
    const lastMillisecond = known.find((r) => r.request === Date.UTC(2026, 10, 1, 23, 59, 59, 999))!;
    expect(ids(await allPages({ to: '2026-11-01', limit: 1000 }))).toContain(lastMillisecond.id);
    expect(ids(await allPages({ from: '2026-11-02', limit: 1000 }))).not.toContain(lastMillisecond.id);
  });

  it('dates are days in the chosen time zone: 23:30 UTC on 1 November is 2 November in Berlin', async () => {
    const late = known.find((r) => r.request === Date.UTC(2026, 10, 1, 23, 30))!;
    expect(ids(await allPages({ from: '2026-11-02', to: '2026-11-02', limit: 1000 }))).not.toContain(late.id);
    expect(ids(await allPages({ from: '2026-11-02', to: '2026-11-02', tz: 'Europe/Berlin', limit: 1000 }))).toContain(
      late.id,
    );
  });
});

describe('stats DAO: rollups', () => {
  const grouped = async (raw: Record<string, unknown>) => {
    const page = await queryStats(stack.db, query(raw));
    if (!page.grouped) throw new Error('expected groups');
    expect(page.source).toEqual({ kind: 'rollups', percentileRelativeError: relativeAccuracy, reason: null });
    return page.rows;
  };
  const statusOf = (r: Known) => (r.success ? 'success' : 'failure');

  it('by model: one row per model with counts and percentiles', async () => {
    expectGroupsToMatch(
      await grouped({ rollup: 'model' }),
      expectedGroups(expectedRows({}), (r) => r.model),
      (g) => g.model!,
    );
  });

  it('by status: one row for successes, one for failures', async () => {
    expectGroupsToMatch(
      await grouped({ rollup: 'status' }),
      expectedGroups(expectedRows({}), statusOf),
      (g) => g.status!,
    );
  });

  it('by model and status combined, with filters', async () => {
    const rows = expectedRows({ models: ['alpha', 'beta'], from: Date.UTC(2026, 9, 31) });
    expectGroupsToMatch(
      await grouped({ rollup: 'model,status', model: 'alpha,beta', from: '2026-10-31' }),
      expectedGroups(rows, (r) => `${r.model}/${statusOf(r)}`),
      (g) => `${g.model}/${g.status}`,
    );
  });

  it('per day, and per day × model, bucket starts in UTC', async () => {
    const rows = expectedRows({});
    const day = (r: Known) => new Date(dayStart(r.request)).toISOString().replace('Z', '000Z');
    expectGroupsToMatch(await grouped({ bucket: 'day' }), expectedGroups(rows, day), (g) => g.bucket!);
    expectGroupsToMatch(
      await grouped({ bucket: 'day', rollup: 'model' }),
      expectedGroups(rows, (r) => `${day(r)}/${r.model}`),
      (g) => `${g.bucket}/${g.model}`,
    );
  });

  it('per day in Berlin: buckets start at local midnight', async () => {
    const berlinOffset = 3_600_000; // CET, all of the data set is after the October change
    const rows = expectedRows({});
    const day = (r: Known) => new Date(dayStart(r.request, berlinOffset)).toISOString().replace('Z', '000Z');
    expectGroupsToMatch(
      await grouped({ bucket: 'day', tz: 'Europe/Berlin' }),
      expectedGroups(rows, day),
      (g) => g.bucket!,
    );
  });

  it('per hour in Berlin, from and to in Berlin: hours from the rollups, days cut at local midnight', async () => {
    const from = nov(1) - 3_600_000;
    const rows = expectedRows({ from, to: nov(3) - 3_600_000 });
    const hour = (r: Known) =>
      new Date(Math.floor(r.request / 3_600_000) * 3_600_000).toISOString().replace('Z', '000Z');
    expectGroupsToMatch(
      await grouped({ bucket: 'hour', from: '2026-11-01', to: '2026-11-02', tz: 'Europe/Berlin' }),
      expectedGroups(rows, hour),
      (g) => g.bucket!,
    );
  });

  it('days in New York without buckets: whole UTC days from day rows, the hours at both edges from hour rows', async () => {
    const est = 5 * 3_600_000; // EST from 1 November 2026
    const rows = expectedRows({ from: nov(2) + est, to: nov(4) + est });
    expectGroupsToMatch(
      await grouped({ rollup: 'model', from: '2026-11-02', to: '2026-11-03', tz: 'America/New_York' }),
      expectedGroups(rows, (r) => r.model),
      (g) => g.model!,
    );
    const oneDay = expectedRows({ from: nov(2) + est, to: nov(3) + est });
    expectGroupsToMatch(
      await grouped({ rollup: 'status', from: '2026-11-02', to: '2026-11-02', tz: 'America/New_York' }),
      expectedGroups(oneDay, statusOf),
      (g) => g.status!,
    );
  });

  it('a time zone with a half-hour offset (Kolkata) is answered from the rows, exactly, and says so', async () => {
    const kolkataOffset = 5.5 * 3_600_000;
    const rows = expectedRows({ from: nov(1) - kolkataOffset });
    const day = (r: Known) => new Date(dayStart(r.request, kolkataOffset)).toISOString().replace('Z', '000Z');
    const page = await queryStats(stack.db, query({ bucket: 'day', from: '2026-11-01', tz: 'Asia/Kolkata' }));
    expect(page.source).toEqual({
      kind: 'rows',
      percentileRelativeError: 0,
      reason: expect.stringContaining('Asia/Kolkata is not a whole number of hours'),
    });
    expectGroupsToMatch(page.rows as StatsGroup[], expectedGroups(rows, day), (g) => g.bucket!, 0);
  });
});

describe('stats DAO: pagination', () => {
  it('is stable: rows added while paging neither repeat nor push rows out of later pages', async () => {
    const before = expectedRows({ models: ['gamma'] }).map((r) => r.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let added = false;
    do {
      const page = await queryStats(stack.db, query({ model: 'gamma', limit: 7, cursor }));
      if (page.grouped) throw new Error('expected raw rows');
      seen.push(...ids(page.rows));
      cursor = page.nextCursor ?? undefined;
      if (!added) {
        // Newer rows arrive after the first page: they belong before it, not in the pages to come.
        const now = Date.UTC(2026, 10, 20);
        const fresh = await insert(
          [1, 2, 3].map((i) => ({
            model: 'gamma',
            success: true,
            request: now + i,
            podReady: now + i + 1,
            processed: now + i + 2,
          })),
        );
        known.push(...fresh);
        added = true;
      }
    } while (cursor);
    expect(seen).toEqual(before);
  });
});

describe('GET /api/admin/stats', () => {
  const get = (path: string, token = admin, headers: Record<string, string> = {}) =>
    stack.api.call('GET', path, { token, headers });

  it('answers admins only', async () => {
    const anonymous = await stack.api.anonymousToken();
    const user = (await stack.api.signUp({ username: `plain${randomUUID().slice(0, 8)}` })).accessToken;
    expect((await stack.api.call('GET', '/api/admin/stats')).status).toBe(401);
    expect((await get('/api/admin/stats', anonymous)).body.error.code).toBe('ACCOUNT_REQUIRED');
    const refused = await get('/api/admin/stats', user);
    expect(refused.status).toBe(403);
    expect((await get('/api/admin/stats?format=csv', user)).status).toBe(403);
  });

  it.each([
    ['from=2026-13-01', 'INVALID_DATE'],
    ['from=2026-02-30', 'INVALID_DATE'],
    ['from=yesterday', 'INVALID_DATE'],
    ['from=2026-11-02&to=2026-11-01', 'INVALID_DATE'],
    ['rollup=model,colour', 'INVALID_ROLLUP'],
    ['bucket=week', 'INVALID_BUCKET'],
    ['tz=Mars/Olympus_Mons', 'INVALID_TIME_ZONE'],
    ['status=maybe', 'INVALID_STATUS'],
    ['model=Not%20A%20Model', 'INVALID_MODEL'],
    ['limit=0', 'INVALID_LIMIT'],
    ['rollup=model&cursor=5', 'INVALID_CURSOR'],
    ['cursor=999999999', 'INVALID_CURSOR'],
    ['format=xml', 'INVALID_FORMAT'],
  ])('%s → 400 %s', async (parameters, code) => {
    const response = await get(`/api/admin/stats?${parameters}`);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code, message: expect.any(String) });
  });

  it('pages raw rows with nextCursor', async () => {
    const first = await get('/api/admin/stats?model=alpha&limit=5');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ grouped: false, timeZone: 'UTC' });
    expect(first.body.rows).toHaveLength(5);
    const second = await get(`/api/admin/stats?model=alpha&limit=5&cursor=${first.body.nextCursor}`);
    expect(second.body.rows[0].id).toBe(expectedRows({ models: ['alpha'] })[5]!.id);
  });

  it.each([
    ['raw rows, all pages', 'model=alpha,beta&status=success&limit=10'],
    ['by model and status', 'rollup=model,status'],
    ['per day and model, Berlin', 'bucket=day&rollup=model&tz=Europe%2FBerlin'],
    ['per hour, one day', 'bucket=hour&from=2026-11-01&to=2026-11-01'],
  ])('CSV (%s) holds what the JSON holds', async (_name, parameters) => {
    const json: Array<StatsRow | StatsGroup> = [];
    let next: string | null = null;
    do {
      const page = await get(`/api/admin/stats?${parameters}${next ? `&cursor=${next}` : ''}`);
      json.push(...page.body.rows);
      next = page.body.nextCursor;
    } while (next);

    const csv = await get(`/api/admin/stats?${parameters}`, admin, { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="podium-stats_.*\.csv"$/);
    const [header, ...records] = parse(csv.body as string) as string[][];
    const columns = statsCsvColumns(statsQuery.parse(Object.fromEntries(new URLSearchParams(parameters))));
    expect(header).toEqual(columns);
    // The CSV is read from the rows: exact percentiles, where grouped JSON has the rollups' (within 1 %).
    const expected = json.map((row) => columns.map((column) => csvCell(statsCsvRecord(row)[column])));
    expect(records).toHaveLength(expected.length);
    records.forEach((record, r) =>
      record.forEach((cell, c) => {
        const [column, fromJson] = [columns[c]!, expected[r]![c]!];
        if (cell === fromJson) return;
        const tolerance = /_p\d+$/.test(column) ? relativeAccuracy : 1e-9;
        expect(Math.abs(Number(fromJson) - Number(cell))).toBeLessThanOrEqual(tolerance * Number(cell) + 1e-6);
      }),
    );
  });
});

/** How csv-stringify writes a value. */
function csvCell(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}
