// Benchmark: what metrics and traces cost the request path (issue 17: ≤ 5 % of throughput).
// Run with `npm run bench:observability` (BENCH_SECONDS per run, 30 by default).
//
// `npm run bench:throughput` twice, back to back on this machine: once with both off
// (PODIUM_METRICS=off, no OTEL_EXPORTER_OTLP_ENDPOINT), once with both on, its spans exported by
// OTLP/HTTP to a receiver here that takes them and counts them. The ratio of completed requests/s.
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

  console.log('— both off —');
  const off = await runThroughput({ PODIUM_METRICS: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: '' });
  console.log('— metrics and traces on —');
  const on = await runThroughput({ PODIUM_METRICS: 'on', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  receiver.close();

  console.log(`\nobservability cost, same run (${seconds} s each):`);
  console.log(`  completed requests/s: off ${off.toFixed(1)}, on ${on.toFixed(1)} → on/off ×${(on / off).toFixed(3)} (target ≥ 0.95)`);
  console.log(`  spans exported: ${exports} OTLP posts, ${(bytes / 1024).toFixed(0)} KiB`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
