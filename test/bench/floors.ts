// Both floors of the request path, measured in the same run as Podium's figures, and the lines
// every request path bench prints with them.
import { measureDurableRecordFloor } from './durable-record-floor';
import type { LoadFigures } from './load-shape';
import { cpuPerOperation, type CpuParts } from './process-cpu';
import { measureTemporalFloor } from './temporal-floor';

/** The bare floor (one eagerly started workflow, one local activity) and the durable-record floor. */
export type Floors = { bare: LoadFigures; durableRecord: LoadFigures };
/** With `cpu`: the platform's CPU per workflow of each floor (ms; test/bench/process-cpu.ts), and by part. */
export type FloorsCpu = Record<keyof Floors, number> & { byPart: Record<keyof Floors, CpuParts> };

export async function measureFloors(options: {
  temporalAddress: string;
  databaseUrl: string;
  endpoint: string;
  runs?: number;
  clients?: number;
  seconds?: number;
}): Promise<Floors & { cpu: FloorsCpu }> {
  const { temporalAddress: address, ...rest } = options;
  const bare = await cpuPerOperation(
    () => measureTemporalFloor({ address, ...rest }),
    (figures) => figures.operations,
  );
  const durableRecord = await cpuPerOperation(
    () => measureDurableRecordFloor({ address, ...rest }),
    (figures) => figures.operations,
  );
  return {
    bare: bare.result,
    durableRecord: durableRecord.result,
    cpu: {
      bare: bare.cpuMsPerOperation,
      durableRecord: durableRecord.cpuMsPerOperation,
      byPart: { bare: bare.byPart, durableRecord: durableRecord.byPart },
    },
  };
}

const floorNames: Record<keyof Floors, string> = { bare: 'bare floor', durableRecord: 'durable-record floor' };

/** One line per floor: what it measured in this run. */
export function describeFloors(floors: Floors): string[] {
  return (Object.keys(floorNames) as (keyof Floors)[]).map((kind) => {
    const floor = floors[kind];
    return (
      `${floorNames[kind]} (same servers, same run): sequential p50 ${floor.sequentialP50.toFixed(1)} ms, ` +
      `p99 ${floor.sequentialP99.toFixed(1)} ms; ${floor.clients} clients ${floor.perSecond.toFixed(1)}/s`
    );
  });
}

/**
 * `value` against each floor's `figure`, with the target per floor: a latency is
 * met at or below its target ratio, a throughput at or above.
 */
export function ratioToFloors(
  what: string,
  value: number,
  floors: Floors,
  figure: 'sequentialP50' | 'sequentialP99' | 'perSecond',
  targets: Partial<Record<keyof Floors, number>> = {},
): string {
  const parts = (Object.keys(floorNames) as (keyof Floors)[]).map((kind) => {
    const ratio = value / floors[kind][figure];
    const target = targets[kind];
    const higherIsBetter = figure === 'perSecond';
    const verdict =
      target === undefined
        ? ''
        : ` (target ${higherIsBetter ? '≥' : '≤'} ${target}: ${(higherIsBetter ? ratio >= target : ratio <= target) ? 'met' : 'NOT met'})`;
    return `×${ratio.toFixed(2)} the ${floorNames[kind]}${verdict}`;
  });
  return `${what}: ${parts.join(', ')}`;
}
