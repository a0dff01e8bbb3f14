import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux here). */
const ticksPerSecond = 100;

type ProcStat = {
  pid: number;
  comm: string;
  ppid: number;
  cpuSeconds: number;
  ownCpuSeconds: number;
  rssBytes: number;
};

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after its closing one are plain.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    const [ppid, utime, stime, cutime, cstime, rssPages] = [1, 11, 12, 13, 14, 21].map((i) => Number(fields[i]));
    // With the reaped children's time: a PostgreSQL backend that exits (a pool closing a
    // connection) moves its time to the postmaster's, so the sum never goes back.
    return {
      pid,
      comm,
      ppid: ppid!,
      cpuSeconds: (utime! + stime! + cutime! + cstime!) / ticksPerSecond,
      ownCpuSeconds: (utime! + stime!) / ticksPerSecond,
      rssBytes: rssPages! * 4096,
    };
  } catch {
    return null; // ended meanwhile
  }
}

/** A process's resident memory now, in MB (from /proc, as its CPU time). */
export function residentMegabytesOf(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} has ended`);
  return stat.rssBytes / 1024 / 1024;
}

/**
 * The CPU seconds a process has used itself, without its reaped children's: a worker's model
 * servers, which it starts and stops, are the model's time, not the worker's.
 */
export function ownCpuSecondsOf(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} has ended`);
  return stat.ownCpuSeconds;
}

/** Where platform CPU is spent: this process (API, worker, clients), PostgreSQL, Temporal. */
export const cpuParts = ['node', 'postgres', 'temporal'] as const;
export type CpuParts = Record<(typeof cpuParts)[number], number>;

/**
 * This process and the PostgreSQL and Temporal processes it started (the API, the worker and
 * the clients share this one): the CPU seconds each part has used so far. Model servers are left
 * out: their time is the model's, the same for Podium and the floors.
 */
export function platformCpuSeconds(): CpuParts {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== null);
  const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
  const descends = (stat: ProcStat): boolean => {
    for (let parent = byPid.get(stat.ppid); parent; parent = byPid.get(parent.ppid))
      if (parent.pid === process.pid) return true;
    return false;
  };
  const parts: CpuParts = { node: 0, postgres: 0, temporal: 0 };
  for (const stat of stats) {
    if (stat.pid === process.pid) parts.node += stat.cpuSeconds;
    else if (descends(stat) && stat.comm === 'postgres') parts.postgres += stat.cpuSeconds;
    else if (descends(stat) && stat.comm.startsWith('temporal')) parts.temporal += stat.cpuSeconds;
  }
  return parts;
}

const sum = (parts: CpuParts) => parts.node + parts.postgres + parts.temporal;
const minus = (a: CpuParts, b: CpuParts): CpuParts => ({
  node: a.node - b.node,
  postgres: a.postgres - b.postgres,
  temporal: a.temporal - b.temporal,
});

/**
 * CPU milliseconds `work` cost the platform per operation, in all and by part, less the
 * platform's idle background over the same time (measured for `idleMs` just before).
 */
export async function cpuPerOperation<T>(
  work: () => Promise<T>,
  operations: (result: T) => number,
  idleMs = 5_000,
): Promise<{ result: T; cpuMsPerOperation: number; byPart: CpuParts; idleCores: number }> {
  const idleStart = platformCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const idlePerSecond = minus(platformCpuSeconds(), idleStart);
  const start = platformCpuSeconds();
  const t0 = Date.now();
  const result = await work();
  const seconds = (Date.now() - t0) / 1000;
  const used = minus(platformCpuSeconds(), start);
  const perOperation = (part: keyof CpuParts) =>
    ((used[part] - (idlePerSecond[part] / (idleMs / 1000)) * seconds) / operations(result)) * 1000;
  const byPart: CpuParts = {
    node: perOperation('node'),
    postgres: perOperation('postgres'),
    temporal: perOperation('temporal'),
  };
  return { result, cpuMsPerOperation: sum(byPart), byPart, idleCores: sum(idlePerSecond) / (idleMs / 1000) };
}

/** "node 20.1 + postgres 12.0 + temporal 18.3 ms". */
export function describeCpuParts(parts: CpuParts): string {
  return `${cpuParts.map((part) => `${part} ${parts[part].toFixed(1)}`).join(' + ')} ms`;
}
