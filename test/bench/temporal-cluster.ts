// Benchmark: Podium's warm throughput on the multi-service Temporal cluster (PostgreSQL
// persistence, 16 shards on two history hosts) against the dev server (SQLite, one process), on
// the same machine in one run. Each round runs both, in turns (dev first, then cluster first…),
// after 15 s of untimed load, so that neither gains from running second or from drift. A third
// variant, a diagnostic, is the cluster with SQL visibility's indexes cut to the 16 that
// Podium's lists and the Temporal UI use: what the other 57, updated on every visibility write,
// cost (docs/scaling.md). Target: the cluster ≥ 0.8× the dev server.
// Run with `npm run bench:temporal-cluster` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CLIENTS).
import { percentile } from './figures';
import { describeCpuParts, type CpuParts } from './process-cpu';
import { withBenchmarkStack } from './run-benchmark';
import { dropUnusedVisibilityIndexes } from './lean-visibility';
import { addWarmEchoModel, runWarmLoad, type WarmLoad } from './warm-load';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 40);
const clients = Number(process.env.BENCH_CLIENTS ?? 16);
const instances = 2;
const concurrency = 8;
const temporals = ['dev', 'cluster', 'lean'] as const;
type Temporal = (typeof temporals)[number];
const labels: Record<Temporal, string> = {
  dev: 'dev server (SQLite, 1 process)',
  cluster: 'cluster (PostgreSQL, 16 shards, 5 processes)',
  lean: 'cluster, SQL visibility with 16 of its 73 indexes (diagnostic)',
};

function oneRound(temporal: Temporal): Promise<WarmLoad> {
  return withBenchmarkStack(
    async (stack) => {
      if (temporal === 'lean') await dropUnusedVisibilityIndexes(stack.services.databaseUrl);
      await addWarmEchoModel(stack, 'echo-bench', { instances, concurrency });
      return runWarmLoad(stack, {
        model: 'echo-bench',
        clients,
        seconds,
        warmUpRequests: instances * concurrency,
        warmUpSeconds: 15,
      });
    },
    { temporal: temporal === 'dev' ? 'dev' : 'cluster' },
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
  const loads: Record<Temporal, WarmLoad[]> = { dev: [], cluster: [], lean: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const temporal of round % 2 === 1 ? temporals : [...temporals].reverse()) {
      const load = await oneRound(temporal);
      loads[temporal].push(load);
      console.error(`[bench] round ${round}, ${temporal}: ${load.perSecond.toFixed(1)} requests/s`);
    }
  }
  const figures = { dev: combined(loads.dev), cluster: combined(loads.cluster), lean: combined(loads.lean) };
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `\nwarm throughput, dev server vs multi-service cluster: ${clients} clients, ${rounds} × ${seconds} s each, ${instances} echo instances × ${concurrency} slots`,
  );
  for (const temporal of temporals) {
    const t = figures[temporal];
    console.log(
      `  ${labels[temporal]}: ${t.perSecond.toFixed(1)} requests/s ` +
        `(rounds ${t.rounds.map((r) => r.toFixed(1)).join(', ')}; ${t.requests} requests), ` +
        `submit → COMPLETE p50 ${f(percentile(t.latencies, 50))}, p99 ${f(percentile(t.latencies, 99))}; ` +
        `CPU per request ${describeCpuParts(t.cpu)}`,
    );
  }
  const ratio = figures.cluster.perSecond / figures.dev.perSecond;
  console.log(`  cluster / dev server  ×${ratio.toFixed(2)} (target ≥ 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  console.log(
    `  diagnostic: the cluster with visibility's unused indexes dropped / dev server  ×${(figures.lean.perSecond / figures.dev.perSecond).toFixed(2)}`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
