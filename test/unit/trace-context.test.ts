import { formatTraceparent, idFromSeed, parseTraceparent } from '../../domain/trace-context';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('reads the trace, the parent span and the sampled flag', () => {
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`)).toEqual({ traceId, spanId, sampled: true });
    expect(parseTraceparent(`00-${traceId}-${spanId}-00`)).toEqual({ traceId, spanId, sampled: false });
  });

  it('writes what it reads', () => {
    expect(formatTraceparent({ traceId, spanId, sampled: true })).toBe(`00-${traceId}-${spanId}-01`);
    expect(formatTraceparent({ traceId, spanId, sampled: false })).toBe(`00-${traceId}-${spanId}-00`);
  });

  it.each([
    ['missing', undefined],
    ['not a string', 42],
    ['another version', `01-${traceId}-${spanId}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['not hex', `00-${traceId.replace('4', 'g')}-${spanId}-01`],
  ])('is null when %s (a new trace starts)', (_, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });
});

describe('ids from a seed', () => {
  it('are the same for the same seed, so a replayed workflow names its spans as before', () => {
    expect(idFromSeed('run-1/activity/3', 8)).toBe(idFromSeed('run-1/activity/3', 8));
  });

  it('have the length W3C asks for, in lowercase hex', () => {
    expect(idFromSeed('run-1/run', 8)).toMatch(/^[0-9a-f]{16}$/);
    expect(idFromSeed('run-1/trace', 16)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('differ between the spans of a run and between runs', () => {
    const seeds = Array.from({ length: 1000 }, (_, run) =>
      Array.from({ length: 20 }, (_, step) => `${run}/activity/${step}`),
    ).flat();
    expect(new Set(seeds.map((seed) => idFromSeed(seed, 8))).size).toBe(seeds.length);
    expect(new Set(seeds.map((seed) => idFromSeed(seed, 16))).size).toBe(seeds.length);
  });
});
