import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Podium's Prometheus metrics, one registry per process (`/metrics` on the API, the worker's
 * own port). Labels stay bounded: models (the catalog), statuses, routes (the router's patterns),
 * never ids. Request timings use request_stats' definitions: queue wait = request → instance
 * ready, processing = instance ready → processed, total = request → processed.
 */
export const registry = new Registry();

/**
 * PODIUM_METRICS=off: every metric a no-op (the overhead benchmark's baseline,
 * test/bench/observability.ts); `/metrics` then answers an empty page.
 */
const enabled = process.env.PODIUM_METRICS !== 'off';
if (enabled) collectDefaultMetrics({ register: registry });

const noop = { inc() {}, set() {}, reset() {}, observe() {}, startTimer: () => () => 0 };
function metric<T>(make: () => T): T {
  return enabled ? make() : (noop as T);
}

/**
 * Seconds: from a warm echo (~10 ms) to a slow cold start (minutes). Few: every bucket is a
 * series per model, and a scrape of 100 models must stay within 10 ms (`npm run bench:metrics`).
 */
const requestBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 120];

export const requestsSubmitted = metric(
  () =>
    new Counter({
      name: 'podium_requests_submitted_total',
      help: 'Work requests accepted, by model',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
);

export const requestsEnded = metric(
  () =>
    new Counter({
      name: 'podium_requests_ended_total',
      help: 'Work requests ended, by model and status (COMPLETE, FAILED, CANCELLED)',
      labelNames: ['model', 'status'] as const,
      registers: [registry],
    }),
);

export const requestTotalSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_request_total_seconds',
      help: 'Request → processed of requests that ended COMPLETE (request_stats total): submit → COMPLETE',
      labelNames: ['model'] as const,
      buckets: requestBuckets,
      registers: [registry],
    }),
);

export const requestQueueWaitSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_request_queue_wait_seconds',
      help: 'Request → its instance was ready for it (request_stats queue wait)',
      labelNames: ['model'] as const,
      buckets: requestBuckets,
      registers: [registry],
    }),
);

export const requestProcessingSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_request_processing_seconds',
      help: 'Instance ready → processed (request_stats processing)',
      labelNames: ['model'] as const,
      buckets: requestBuckets,
      registers: [registry],
    }),
);

export const requestsWaiting = metric(
  () =>
    new Gauge({
      name: 'podium_requests_waiting',
      help: 'Requests waiting (REQUESTED) for an instance, by model; read from PostgreSQL at scrape',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
);

export const instances = metric(
  () =>
    new Gauge({
      name: 'podium_instances',
      help: 'Model instances not yet terminated, by model and state; read from PostgreSQL at scrape',
      labelNames: ['model', 'state'] as const,
      registers: [registry],
    }),
);

export const instanceStartupSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_instance_startup_seconds',
      help: 'Instance created → ready, by model',
      labelNames: ['model'] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
);

export const autoscalerDecisions = metric(
  () =>
    new Counter({
      name: 'podium_autoscaler_decisions_total',
      help: 'Node autoscaler decisions acted on, by action',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
);

export const autoscalerNodes = metric(
  () =>
    new Counter({
      name: 'podium_autoscaler_nodes_total',
      help: 'Nodes the autoscaler added or removed, by change (added, removed) and node type',
      labelNames: ['change', 'node_type'] as const,
      registers: [registry],
    }),
);

export const autoscalerReactionSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_autoscaler_reaction_seconds',
      help: 'A pod unschedulable → the node for it added',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
);

export const webhookDeliveries = metric(
  () =>
    new Counter({
      name: 'podium_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (delivered, failed, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
);

export const httpRequestSeconds = metric(
  () =>
    new Histogram({
      name: 'podium_http_request_duration_seconds',
      help: 'API requests, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
);

export const sessionCacheLookups = metric(
  () =>
    new Counter({
      name: 'podium_session_cache_lookups_total',
      help: 'Session cache lookups of the API, by result (hit, miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
);

/** A request's ended attempt, as its stats row measured it (seconds; null when it never had an instance). */
export type RequestTimings = {
  queueWaitSeconds: number | null;
  processingSeconds: number | null;
  totalSeconds: number;
};

/** Counts an ended request and, for COMPLETE and FAILED, observes its timings (the total for COMPLETE only). */
export function observeRequestEnd(model: string, status: string, timings: RequestTimings | null): void {
  requestsEnded.inc({ model, status });
  if (!timings) return;
  if (status === 'COMPLETE') requestTotalSeconds.observe({ model }, timings.totalSeconds);
  if (timings.queueWaitSeconds !== null) requestQueueWaitSeconds.observe({ model }, timings.queueWaitSeconds);
  if (timings.processingSeconds !== null) requestProcessingSeconds.observe({ model }, timings.processingSeconds);
}
