// Benchmark: what metrics and traces cost the request path (issue 17: ≤ 5 % of throughput).
// Run with `npm run bench:observability` (BENCH_SECONDS per run, 30 by default).
//
// `npm run bench:throughput` four times on this machine, in the order off, on, on, off (so a
// drift of the machine over the run weighs on both alike): off is PODIUM_METRICS=off and no
// OTEL_EXPORTER_OTLP_ENDPOINT, on has both, its spans exported by OTLP/HTTP to a receiver here
// that takes them and counts them. The ratio of completed requests/s, on over off.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const seconds = process.env.BENCH_SECONDS ?? '30';

function runThroughput(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/throughput.ts'], {
      env: { ...process.env, BENCH_SECONDS: seconds, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.once('exit', (code) => {
      const perSecond = /completed requests\/s\s+([\d.]+)/.exec(output)?.[1];
      if (code !== 0 || !perSecond) return reject(new Error(`the throughput run failed (${code})`));
      resolve(Number(perSecond));
    });
  });
}

async function main() {
  let exports = 0;
  let bytes = 0;
  const receiver = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      exports++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const settings = {
    off: { PODIUM_METRICS: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    on: { PODIUM_METRICS: 'on', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
  };
  const runs: Record<keyof typeof settings, number[]> = { off: [], on: [] };
  for (const which of ['off', 'on', 'on', 'off'] as const) {
    console.log(which === 'off' ? '— both off —' : '— metrics and traces on —');
    runs[which].push(await runThroughput(settings[which]));
  }
  receiver.close();

  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const [off, on] = [mean(runs.off), mean(runs.on)];
  const list = (values: number[]) => values.map((value) => value.toFixed(1)).join(', ');
  console.log(`\nobservability cost, same run (${seconds} s each, in the order off, on, on, off):`);
  console.log(
    `  completed requests/s: off ${list(runs.off)} (mean ${off.toFixed(1)}), on ${list(runs.on)} (mean ${on.toFixed(1)})`,
  );
  console.log(`  on/off ×${(on / off).toFixed(3)} (target ≥ 0.95)`);
  console.log(`  spans exported: ${exports} OTLP posts, ${(bytes / 1024).toFixed(0)} KiB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
