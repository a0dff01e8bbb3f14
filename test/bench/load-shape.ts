import { performance } from 'node:perf_hooks';
import { percentile } from './figures';

/** What every request path bench measures: sequential latency, then concurrent throughput. */
export type LoadFigures = {
  sequentialP50: number;
  sequentialP99: number;
  clients: number;
  perSecond: number;
  operations: number;
};

/**
 * `once` run `warmUp` times unmeasured, `runs` times one after another (latency), then by
 * `clients` concurrent loops for `seconds` (throughput; none when `seconds` is 0). The floors and
 * Podium use the same shape.
 */
export async function measureLoad(
  once: () => Promise<unknown>,
  {
    runs = 200,
    clients = 16,
    seconds = 10,
    warmUp = 20,
  }: { runs?: number; clients?: number; seconds?: number; warmUp?: number } = {},
): Promise<LoadFigures> {
  for (let i = 0; i < warmUp; i++) await once();
  const sequential: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    sequential.push(performance.now() - t0);
  }
  if (seconds === 0) {
    return {
      sequentialP50: percentile(sequential, 50),
      sequentialP99: percentile(sequential, 99),
      clients: 0,
      perSecond: 0,
      operations: warmUp + runs,
    };
  }
  let completed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        await once();
        completed++;
      }
    }),
  );
  return {
    sequentialP50: percentile(sequential, 50),
    sequentialP99: percentile(sequential, 99),
    clients,
    perSecond: completed / ((performance.now() - started) / 1000),
    operations: warmUp + runs + completed,
  };
}
