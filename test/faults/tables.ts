import type { Endings } from '../support/request-endings';
import type { Answers } from './load';
import type { FuzzFigures } from './schemathesis';

export type FaultFigures = {
  scenario: string;
  accepted: number;
  endings: Endings;
  orphans: { deadRows: number; strayProcesses: number; notes: string[] };
  failures: readonly string[];
  answers: Answers;
  submitToEndMs: number[];
};

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);

function failedSummary(codes: string[]): string {
  if (codes.length === 0) return '0';
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return `${codes.length} (${[...counts].map(([code, n]) => `${code} ${n}`).join(', ')})`;
}

/** One row per fault: how the accepted requests ended, what was left behind, how the API answered. */
export function faultTable(figures: FaultFigures[]): string {
  const rows = figures.map((f) => {
    const a = f.answers;
    return [
      f.scenario,
      f.accepted,
      f.endings.complete,
      failedSummary(f.endings.failed),
      f.endings.unended,
      f.endings.statsNotOnce,
      f.endings.heldSlots,
      `${f.orphans.deadRows} / ${f.orphans.strayProcesses}`,
      `${a.ok} / ${a.coded503} / ${a.wrong.length}`,
      seconds(a.slowestMs),
      `${seconds(quantile(f.submitToEndMs, 0.5))} / ${seconds(Math.max(...f.submitToEndMs))}`,
    ].join(' | ');
  });
  const wrong = figures.flatMap((f) => f.answers.wrong.map((w) => `- ${f.scenario}: ${w}`));
  const leftovers = figures.flatMap((f) =>
    [...f.failures, ...f.orphans.notes].map((note) => `- ${f.scenario}: ${note}`),
  );
  return [
    '| fault | accepted | complete | failed | unended | stats rows ≠ 1 | slots held | orphans (dead rows / stray processes) | API answers 2xx / coded 503 / other | slowest API answer | submit → end p50 / max |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
    ...(wrong.length ? ['', 'Answers that were neither a 2xx nor a coded 503 within 2 s:', ...wrong] : []),
    ...(leftovers.length ? ['', 'Failed requests and dead instance rows:', ...leftovers] : []),
  ].join('\n');
}

/** One row per role schemathesis ran as. */
export function fuzzTable(figures: FuzzFigures[]): string {
  return [
    '| schemathesis as | operations | test cases | server errors (5xx) | undocumented statuses | other check failures |',
    '|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.role} | ${f.operations} | ${f.cases} | ${f.serverErrors} | ${f.undocumented} | ${f.otherFailures} |`,
    ),
  ].join('\n');
}
