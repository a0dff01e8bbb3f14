// Benchmark: Podium's warm throughput on the multi-service Temporal cluster (PostgreSQL
// persistence, 16 shards on two history hosts) against the dev server (SQLite, one process), on
// the same machine in one run. Rounds alternate (dev, cluster, dev, cluster…) so drift in the
// machine falls on both. Target: the cluster ≥ 0.8× the dev server.
// Run with `npm run bench:temporal-cluster` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CLIENTS).
import { percentile } from './figures';
import { describeCpuParts, type CpuParts } from './process-cpu';
import { withBenchmarkStack } from './run-benchmark';
import { addWarmEchoModel, runWarmLoad, type WarmLoad } from './warm-load';

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const clients = Number(process.env.BENCH_CLIENTS ?? 16);
const instances = 2;
const concurrency = 8;
const temporals = ['dev', 'cluster'] as const;
type Temporal = (typeof temporals)[number];

function oneRound(temporal: Temporal): Promise<WarmLoad> {
  return withBenchmarkStack(
    async (stack) => {
      await addWarmEchoModel(stack, 'echo-bench', { instances, concurrency });
      return runWarmLoad(stack, { model: 'echo-bench', clients, seconds, warmUpRequests: instances * 4 });
    },
    { temporal },
  );
}

/** The rounds of one Temporal together: requests over time, latencies pooled, CPU averaged. */
function combined(loads: WarmLoad[]) {
  const requests = loads.reduce((n, load) => n + load.latencies.length, 0);
  const mean = (part: keyof CpuParts) => loads.reduce((ms, load) => ms + load.cpu.byPart[part], 0) / loads.length;
  return {
    requests,
    perSecond: requests / loads.reduce((s, load) => s + load.seconds, 0),
    rounds: loads.map((load) => load.perSecond),
    latencies: loads.flatMap((load) => load.latencies),
    cpu: { node: mean('node'), postgres: mean('postgres'), temporal: mean('temporal') },
  };
}

async function main() {
  const loads: Record<Temporal, WarmLoad[]> = { dev: [], cluster: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const temporal of temporals) {
      const load = await oneRound(temporal);
      loads[temporal].push(load);
      console.error(`[bench] round ${round}, ${temporal}: ${load.perSecond.toFixed(1)} requests/s`);
    }
  }
  const figures = { dev: combined(loads.dev), cluster: combined(loads.cluster) };
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `\nwarm throughput, dev server vs multi-service cluster: ${clients} clients, ${rounds} × ${seconds} s each, ${instances} echo instances × ${concurrency} slots`,
  );
  for (const temporal of temporals) {
    const t = figures[temporal];
    console.log(
      `  ${temporal === 'dev' ? 'dev server (SQLite, 1 process)     ' : 'cluster (PostgreSQL, 16 shards, 5 processes)'}  ${t.perSecond.toFixed(1)} requests/s ` +
        `(rounds ${t.rounds.map((r) => r.toFixed(1)).join(', ')}; ${t.requests} requests), ` +
        `submit → COMPLETE p50 ${f(percentile(t.latencies, 50))}, p99 ${f(percentile(t.latencies, 99))}; ` +
        `CPU per request ${describeCpuParts(t.cpu)}`,
    );
  }
  const ratio = figures.cluster.perSecond / figures.dev.perSecond;
  console.log(`  cluster / dev server  ×${ratio.toFixed(2)} (target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
