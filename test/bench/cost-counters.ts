import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import type { ClusterProcess } from '../../infra/temporal-cluster/cluster';
import { ownCpuSecondsOf, platformCpuSeconds } from './process-cpu';

/**
 * Every counter the cost benchmark reads, at one moment: Temporal's (from the cluster processes'
 * Prometheus metrics), PostgreSQL's (per database) and each component's CPU seconds.
 */
export type Counters = {
  at: number;
  /** The frontend's `action` counter by action type: what Temporal counts as billable actions. */
  actions: Record<string, number>;
  /**
   * State transitions: history records each persisted mutable-state update in the
   * `state_transition_count` histogram (its value the workflow's running total), so its count.
   */
  stateTransitions: number;
  /** Top-level statements (pg_stat_statements) and commits (pg_stat_database), by database. */
  statements: Record<string, number>;
  commits: Record<string, number>;
  walLsn: string;
  /** Each database's size on disk (pg_database_size). */
  bytes: Record<string, number>;
  cpuSeconds: Record<string, number>;
};

/** Sums a metric's samples in Prometheus text, by one label (or all under `''`). */
function metricSum(text: string, name: string, byLabel?: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const key = byLabel ? (new RegExp(`${byLabel}="([^"]*)"`).exec(line)?.[1] ?? '') : '';
    sums[key] = (sums[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sums;
}

async function metricsOf(processes: ClusterProcess[]): Promise<string> {
  const texts = await Promise.all(processes.map(async (p) => (await fetch(p.metricsUrl)).text()));
  return texts.join('\n');
}

const byDatabase = z.object({ name: z.string(), n: z.number() });
/** PostgreSQL's own databases: only autovacuum and the benchmark's reads touch them. */
const maintenanceDatabases = ['postgres', 'template0', 'template1'];

export async function readCounters(options: {
  db: DatabasePool;
  processes: Record<string, ClusterProcess>;
  /** Components by name whose own CPU is read by pid (the worker process, each Temporal process). */
  pids: Record<string, number>;
}): Promise<Counters> {
  const all = Object.values(options.processes);
  const frontend = await metricsOf(all.filter((p) => p.service === 'frontend'));
  const history = await metricsOf(all.filter((p) => p.service === 'history'));
  const statements = await options.db.any(sql.type(byDatabase)`
    SELECT d.datname AS name, sum(s.calls)::float8 AS n
      FROM public.pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE s.toplevel AND d.datname NOT IN (${sql.join(maintenanceDatabases, sql.fragment`, `)}) GROUP BY d.datname`);
  const commits = await options.db.any(sql.type(byDatabase)`
    SELECT datname AS name, xact_commit::float8 AS n FROM pg_stat_database WHERE datname NOT IN (${sql.join(maintenanceDatabases, sql.fragment`, `)})`);
  const bytes = await options.db.any(sql.type(byDatabase)`
    SELECT datname AS name, pg_database_size(datname)::float8 AS n FROM pg_database
     WHERE datname NOT IN (${sql.join(maintenanceDatabases, sql.fragment`, `)})`);
  const walLsn = await options.db.oneFirst(
    sql.type(z.object({ lsn: z.string() }))`SELECT pg_current_wal_lsn()::text AS lsn`,
  );
  const platform = platformCpuSeconds();
  const cpuSeconds: Record<string, number> = { 'API (+ bench clients)': platform.node, PostgreSQL: platform.postgres };
  for (const [name, pid] of Object.entries(options.pids)) cpuSeconds[name] = ownCpuSecondsOf(pid);
  return {
    at: Date.now(),
    actions: metricSum(frontend, 'action', 'action_type'),
    stateTransitions: metricSum(history, 'state_transition_count_count')[''] ?? 0,
    statements: Object.fromEntries(statements.map((row) => [row.name, row.n])),
    commits: Object.fromEntries(commits.map((row) => [row.name, row.n])),
    walLsn,
    bytes: Object.fromEntries(bytes.map((row) => [row.name, row.n])),
    cpuSeconds,
  };
}

/** What a window added to each counter, by name. */
export type CounterGrowth = {
  seconds: number;
  actions: Record<string, number>;
  stateTransitions: number;
  statements: Record<string, number>;
  commits: Record<string, number>;
  walBytes: Record<string, number>;
  /** Growth of each database on disk. */
  bytes: Record<string, number>;
  cpuMs: Record<string, number>;
};

const growth = (after: Record<string, number>, before: Record<string, number>, scale = 1) =>
  Object.fromEntries(Object.entries(after).map(([key, value]) => [key, (value - (before[key] ?? 0)) * scale]));

/**
 * The growth of every counter between two readings, with the window's WAL attributed to the
 * database each record changed (pg_walinspect; commit records and the like change no relation).
 */
export async function growthBetween(db: DatabasePool, before: Counters, after: Counters): Promise<CounterGrowth> {
  const wal = await db.any(sql.type(byDatabase)`
    SELECT coalesce(d.datname, '(no relation: commits, …)') AS name, sum(w.record_length)::float8 AS n
      FROM public.pg_get_wal_records_info(${before.walLsn}::pg_lsn, ${after.walLsn}::pg_lsn) w
      LEFT JOIN pg_database d ON d.oid = (regexp_match(w.block_ref, 'rel \\d+/(\\d+)/'))[1]::oid
     WHERE d.datname IS NULL OR d.datname NOT IN (${sql.join(maintenanceDatabases, sql.fragment`, `)})
     GROUP BY 1`);
  return {
    seconds: (after.at - before.at) / 1000,
    actions: growth(after.actions, before.actions),
    stateTransitions: after.stateTransitions - before.stateTransitions,
    statements: growth(after.statements, before.statements),
    commits: growth(after.commits, before.commits),
    walBytes: Object.fromEntries(wal.map((row) => [row.name, row.n])),
    bytes: growth(after.bytes, before.bytes),
    cpuMs: growth(after.cpuSeconds, before.cpuSeconds, 1000),
  };
}

/** `work` less `idle` scaled to `work`'s length, per `operations`: the operations' own cost. */
export function perOperation(work: CounterGrowth, idle: CounterGrowth, operations: number): CounterGrowth {
  const scale = work.seconds / idle.seconds;
  const net = (w: Record<string, number>, i: Record<string, number>) =>
    Object.fromEntries(
      [...new Set([...Object.keys(w), ...Object.keys(i)])].map((key) => [
        key,
        ((w[key] ?? 0) - (i[key] ?? 0) * scale) / operations,
      ]),
    );
  return {
    seconds: work.seconds / operations,
    actions: net(work.actions, idle.actions),
    stateTransitions: (work.stateTransitions - idle.stateTransitions * scale) / operations,
    statements: net(work.statements, idle.statements),
    commits: net(work.commits, idle.commits),
    walBytes: net(work.walBytes, idle.walBytes),
    bytes: net(work.bytes, idle.bytes),
    cpuMs: net(work.cpuMs, idle.cpuMs),
  };
}

export const total = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
