// Benchmark: authenticated GET /api/auth/me with the session cache on vs off (the database on
// every request), in the same run. Run with `npm run bench:auth-cache`.
// Load comes from autocannon in a child process, so that it does not share the API's event loop.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestStack } from '../support/test-stack';
import { runBenchmark } from './run-benchmark';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const autocannonBin = path.resolve(__dirname, '../../node_modules/.bin/autocannon');

type Figures = { requestsPerSecond: number; p50: number; p99: number; errors: number; non2xx: number };

async function load(url: string, token: string, durationSeconds: number): Promise<Figures> {
  const { stdout } = await promisify(execFile)(
    autocannonBin,
    ['-j', '-c', String(connections), '-d', String(durationSeconds), '-H', `authorization=Bearer ${token}`, url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout);
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function benchmark(stack: TestStack) {
  const cached = stack.primary;
  const uncached = await stack.startApiInstance({ SESSION_CACHE_ENABLED: 'false' });
  const { accessToken } = await cached.api.signUp({ username: `bench${Date.now().toString(36)}` });
  const targets = [
    { name: 'cache off (database every request)', url: `${uncached.baseUrl}/api/auth/me` },
    { name: 'cache on', url: `${cached.baseUrl}/api/auth/me` },
  ];
  for (const target of targets) await load(target.url, accessToken, 2); // warm-up
  const rows: (Figures & { name: string })[] = [];
  for (const target of targets) rows.push({ name: target.name, ...(await load(target.url, accessToken, seconds)) });

  console.log(`\nGET /api/auth/me, ${connections} connections, ${seconds} s each (latency in ms)`);
  console.table(rows.map((r) => ({ ...r, requestsPerSecond: Math.round(r.requestsPerSecond) })));
  const [off, on] = [rows[0]!, rows[1]!];
  console.log(
    `cache on vs off: throughput ×${(on.requestsPerSecond / off.requestsPerSecond).toFixed(1)}, ` +
      `p99 ${on.p99} ms vs ${off.p99} ms (goal: ≥ 5× throughput)`,
  );
  if (rows.some((r) => r.errors > 0 || r.non2xx > 0))
    throw new Error('some requests failed: the figures are not valid');
}

runBenchmark(benchmark);
