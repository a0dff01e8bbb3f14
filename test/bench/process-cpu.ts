import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux here). */
const ticksPerSecond = 100;

type ProcStat = { pid: number; comm: string; ppid: number; cpuSeconds: number; rssBytes: number };

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
    return { pid, comm, ppid: ppid!, cpuSeconds: (utime! + stime! + cutime! + cstime!) / ticksPerSecond, rssBytes: rssPages! * 4096 };
  } catch {
    return null; // ended meanwhile
  }
}

/**
 * This process and the PostgreSQL and Temporal processes it started (the API, the worker and
 * the clients share this one): the CPU seconds they have used so far. Model servers are left
 * out: their time is the model's, the same for Podium and the floors.
 */
export function platformCpuSeconds(): number {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== null);
  const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
  const descends = (stat: ProcStat): boolean => {
    for (let parent = byPid.get(stat.ppid); parent; parent = byPid.get(parent.ppid)) if (parent.pid === process.pid) return true;
    return false;
  };
  return stats
    .filter((stat) => stat.pid === process.pid || (descends(stat) && (stat.comm === 'postgres' || stat.comm.startsWith('temporal'))))
    .reduce((sum, stat) => sum + stat.cpuSeconds, 0);
}

/**
 * CPU seconds `work` cost the platform per operation, less the platform's idle background over
 * the same time (measured for `idleMs` just before).
 */
export async function cpuPerOperation<T>(work: () => Promise<T>, operations: (result: T) => number, idleMs = 5_000): Promise<{ result: T; cpuMsPerOperation: number; idleCores: number }> {
  const idleStart = platformCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const idleCores = (platformCpuSeconds() - idleStart) / (idleMs / 1000);
  const start = platformCpuSeconds();
  const t0 = Date.now();
  const result = await work();
  const seconds = (Date.now() - t0) / 1000;
  const used = platformCpuSeconds() - start - idleCores * seconds;
  return { result, cpuMsPerOperation: (used / operations(result)) * 1000, idleCores };
}

