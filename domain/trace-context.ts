/**
 * W3C trace context (`traceparent`) without the OpenTelemetry SDK, for code that must stay
 * small: the workflow sandbox loads its modules once per workflow, and the SDK's cost there is
 * most of what tracing costs the request path (workflows/tracing-interceptors.ts).
 */
export type SpanContext = { traceId: string; spanId: string; sampled: boolean };

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const allZeros = /^0+$/;

/** The span a `traceparent` names; null when it is missing or malformed (a new trace starts). */
export function parseTraceparent(value: unknown): SpanContext | null {
  if (typeof value !== 'string') return null;
  const [, traceId, spanId, flags] = traceparentPattern.exec(value.trim().toLowerCase()) ?? [];
  if (!traceId || !spanId || !flags || allZeros.test(traceId) || allZeros.test(spanId)) return null;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent({ traceId, spanId, sampled }: SpanContext): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * A hex id of `bytes` bytes derived from `seed`: the same seed gives the same id, so a workflow
 * replayed after eviction names its spans as it did the first time, without drawing from the
 * workflow's seeded Math.random (which would shift the ids its own code draws). Seeds hold a
 * run id, so they differ at random already; each 4 bytes is an FNV-1a pass with its own offset,
 * finished with murmur3's avalanche. Never all zeros (invalid in W3C).
 */
export function idFromSeed(seed: string, bytes: 8 | 16): string {
  let id = '';
  for (let round = 0; round < bytes / 4; round++) {
    let hash = (0x811c9dc5 ^ Math.imul(round + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 0x01000193);
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    id += ((hash ^ (hash >>> 16)) >>> 0).toString(16).padStart(8, '0');
  }
  return allZeros.test(id) ? `${id.slice(0, -1)}1` : id;
}
