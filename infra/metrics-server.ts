import { createServer, type Server } from 'node:http';
import { registry } from '../lib/metrics';
import { metricsText } from '../lib/metrics-text';

/** What a process says of itself to Kubernetes' probes: alive (else restart it), and ready for work. */
export type ProcessHealth = () => { live: boolean; ready: boolean; state: string };

/**
 * Serves this process's Prometheus metrics at `/metrics` (a worker on its own has no API to serve
 * them) and, given `health`, `/health/live` and `/health/ready` for the probes (200, or 503 with
 * the state).
 */
export function serveMetrics(host: string, port: number, health?: ProcessHealth): Promise<Server> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method === 'GET' && health && (path === '/health/live' || path === '/health/ready')) {
      const now = health();
      const ok = path === '/health/live' ? now.live : now.ready;
      response
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok, state: now.state }));
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metricsText(registry).then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500).end(error.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
