// Benchmark: the TypeScript client (clients/typescript) against raw fetch for run("echo", …), in
// the same run, interleaved. Run with `npm run bench:typescript-client`. The goal for the
// Python client (≤ 1 ms p50 over the raw calls) is the yardstick here too.
import { performance } from 'node:perf_hooks';
import { Podium } from '../../clients/typescript/src';
import type { TestStack } from '../support/test-stack';
import { percentile } from './figures';
import { runBenchmark } from './run-benchmark';

const rounds = Number(process.env.BENCH_ROUNDS ?? 300);
const input = { inputs: [{ name: 'numbers', datatype: 'FP64', shape: [1, 2], data: [1, 2] }] };

async function benchmark(stack: TestStack) {
  const podium = await Podium.anonymous(stack.baseUrl);
  const token = (podium.credentials as unknown as { token: string }).token;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  /** What a careful caller writes by hand: a key, the submission, a long poll, every status checked. */
  const raw = async () => {
    const submitted = await fetch(`${stack.baseUrl}/api/requests`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ model: 'echo', input }),
    });
    if (submitted.status !== 202) throw new Error(`submit: ${submitted.status}`);
    const { id } = (await submitted.json()) as { id: string };
    const ended = await fetch(`${stack.baseUrl}/api/requests/${id}?wait=60`, { headers });
    const view = (await ended.json()) as { status: string; result: { outputs: { data: number[] }[] } };
    if (!ended.ok || view.status !== 'COMPLETE') throw new Error(`wait: ${ended.status} ${view.status}`);
    return view.result.outputs[0]!.data;
  };
  const client = async () => (await podium.run('echo', { numbers: [[1, 2]] })).numbers!.data;

  const times: Record<'raw fetch' | 'podium client', number[]> = { 'raw fetch': [], 'podium client': [] };
  for (let round = -20; round < rounds; round++) {
    // Interleaved, so both meet the same machine; the first 20 rounds warm up and are not kept.
    for (const [name, call] of [
      ['raw fetch', raw],
      ['podium client', client],
    ] as const) {
      const started = performance.now();
      const data = await call();
      if (Array.from(data as ArrayLike<number>).join() !== '1,2') throw new Error(`${name}: wrong answer`);
      if (round >= 0) times[name].push(performance.now() - started);
    }
  }
  const ms = (value: number) => Number(value.toFixed(2));
  console.log(`\nrun("echo", …) warm, ${rounds} rounds each, interleaved (ms)`);
  console.table(
    Object.entries(times).map(([name, values]) => ({
      name,
      p50: ms(percentile(values, 50)),
      p99: ms(percentile(values, 99)),
    })),
  );
  const over = percentile(times['podium client'], 50) - percentile(times['raw fetch'], 50);
  console.log(`client over raw fetch, p50: ${ms(over)} ms (goal: ≤ 1 ms)`);
}

runBenchmark(benchmark);
