import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { metricsApp } from '../../api/http/metrics';
import { findFreePorts } from '../../lib/ports';
import { eventually } from '../support/eventually';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';

// The API serves /metrics; the requests go to a worker process of their own (as deployed), which
// serves Podium's worker metrics and the Temporal SDK's on the ports it is given.
let stack: TestStack;
let worker: ChildProcess;
let workerMetrics: string;
let sdkMetrics: string;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  const [workerPort, sdkPort] = await findFreePorts(2);
  workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
  sdkMetrics = `http://127.0.0.1:${sdkPort}/metrics`;
  worker = await startWorkerProcess(workerTargetOf(stack), {
    HOST: '127.0.0.1',
    WORKER_METRICS_PORT: String(workerPort),
    TEMPORAL_METRICS_PORT: String(sdkPort),
  });
}, 60_000);
afterAll(async () => {
  if (worker) await stopWorkerProcess(worker);
  await stack?.stop();
});

const scrape = async (url: string) => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
};
/** The value of one series, e.g. `podium_requests_ended_total{model="echo",status="COMPLETE"}`. */
const valueOf = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((line) => line.startsWith(`${series} `))
      ?.split(' ')[1] ?? NaN,
  );
const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe('Prometheus metrics', () => {
  it('count requests and time them by model, status and route pattern, with no ids in any label', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
    expect((await stack.api.waitUntilFinal(token, body.id)).request.status).toBe('COMPLETE');

    const api = await scrape(`${stack.baseUrl}/metrics`);
    expect(valueOf(api, 'podium_requests_submitted_total{model="echo"}')).toBe(1);
    expect(
      valueOf(api, 'podium_http_request_duration_seconds_count{method="POST",route="/api/requests",status="202"}'),
    ).toBe(1);
    expect(api).toMatch(
      /podium_http_request_duration_seconds_count\{method="GET",route="\/api\/requests\/:id",status="200"\} \d+/,
    );
    expect(api).toMatch(/^podium_instances\{model="echo",state="(READY|RELEASED|ASSIGNED)"\} 1$/m);
    expect(api).toContain('process_resident_memory_bytes');
    expect(api).not.toMatch(uuid);

    const worked = await eventually(
      () => scrape(workerMetrics),
      (text) => valueOf(text, 'podium_requests_ended_total{model="echo",status="COMPLETE"}') === 1,
    );
    expect(valueOf(worked, 'podium_request_total_seconds_count{model="echo"}')).toBe(1);
    expect(valueOf(worked, 'podium_request_queue_wait_seconds_count{model="echo"}')).toBe(1);
    expect(valueOf(worked, 'podium_request_processing_seconds_count{model="echo"}')).toBe(1);
    expect(valueOf(worked, 'podium_instance_startup_seconds_count{model="echo"}')).toBe(1);
    expect(worked).not.toMatch(uuid);
  });

  it('export every metric the Grafana dashboard queries', async () => {
    const dashboard = JSON.parse(
      await readFile(path.resolve(__dirname, '../../infra/grafana/podium-dashboard.json'), 'utf8'),
    );
    const queried = new Set<string>(
      dashboard.panels
        .flatMap((panel: { targets: { expr: string }[] }) => panel.targets.map((target) => target.expr))
        .flatMap((expr: string) => expr.match(/\b(podium|temporal|process)_[a-z_]+/g) ?? [])
        .map((name: string) => name.replace(/_(bucket|count|sum)$/, '')),
    );
    expect(queried.size).toBeGreaterThan(15);
    const exported = [
      await scrape(`${stack.baseUrl}/metrics`),
      await scrape(workerMetrics),
      await scrape(sdkMetrics),
    ].join('\n');
    const declared = new Set(
      [...exported.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!.replace(/_total$/, '')),
    );
    const missing = [...queried].filter((name) => !declared.has(name) && !declared.has(name.replace(/_total$/, '')));
    expect(missing).toEqual([]);
  });
});

describe("the API's metrics on a port of their own (API_METRICS_PORT, as the manifests deploy it)", () => {
  it('are served there, and not on the port an Ingress exposes', async () => {
    const [metricsPort] = await findFreePorts(1);
    const instance = await stack.startApiInstance({ API_METRICS_PORT: String(metricsPort) });
    const served = metricsApp(stack.db).listen(metricsPort, '127.0.0.1');
    try {
      expect((await fetch(`${instance.baseUrl}/metrics`)).status).toBe(404);
      expect(await scrape(`http://127.0.0.1:${metricsPort}/metrics`)).toContain('podium_http_request_duration_seconds');
      expect((await fetch(`http://127.0.0.1:${metricsPort}/api/health`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => served.close(resolve));
    }
  });
});
