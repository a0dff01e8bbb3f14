// Benchmark: the Python client (clients/python) against raw httpx for run("echo", …), in the
// same run, and the time `import podium` takes. Run with `npm run bench:python-client`.
// Targets (issue 37): ≤ 1 ms p50 over raw httpx; `python -c "import podium"` ≤ 150 ms.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensurePythonTool, pythonClientTests } from '../../infra/python-tools';
import { projectRoot } from '../../lib/project-root';
import type { TestStack } from '../support/test-stack';
import { runBenchmark } from './run-benchmark';

const rounds = Number(process.env.BENCH_ROUNDS ?? 300);

type Figures = {
  p50: Record<string, number>;
  p99: Record<string, number>;
  startupMs: Record<string, number>;
};

async function benchmark(stack: TestStack) {
  const venv = ensurePythonTool(pythonClientTests);
  const { stdout } = await promisify(execFile)(
    path.join(venv, 'bin', 'python'),
    [path.join(__dirname, 'python_client_bench.py'), stack.baseUrl, String(rounds)],
    { env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'clients/python/src') }, maxBuffer: 1024 * 1024 },
  );
  const figures = JSON.parse(stdout) as Figures;
  const ms = (value: number) => Number(value.toFixed(2));
  console.log(`\nrun("echo", …) warm, ${rounds} rounds each, interleaved (ms)`);
  console.table(
    Object.keys(figures.p50).map((name) => ({ name, p50: ms(figures.p50[name]!), p99: ms(figures.p99[name]!) })),
  );
  const over = figures.p50['podium client']! - figures.p50['raw httpx']!;
  console.log(`client over raw httpx, p50: ${ms(over)} ms (goal: ≤ 1 ms)`);
  console.log('\nstartup, median of 15 (ms)');
  console.table(Object.entries(figures.startupMs).map(([what, value]) => ({ what, ms: ms(value) })));
  console.log(
    `python -c "import podium": ${ms(figures.startupMs['import podium']!)} ms, of which Python itself ` +
      `${ms(figures.startupMs.python!)} ms (goal: ≤ 150 ms)`,
  );
}

runBenchmark(benchmark);
