import type { StatsSource } from '../../domain/stats-rollup-group';

/** What the page says about where its grouped figures came from; null for raw rows (exact, nothing to say). Pure. */
export function sourceNote(source: StatsSource, grouped: boolean): string | null {
  if (!grouped) return null;
  if (source.kind === 'rollups') {
    const percent = `${+(source.percentileRelativeError * 100).toFixed(2)} %`;
    return (
      `Percentiles are estimated from rollups, each within ${percent} of the exact value; ` +
      'counts, averages and maxima are exact. The CSV is computed from every request, with exact percentiles.'
    );
  }
  return `Exact figures, computed from every request${source.reason ? `: ${source.reason}` : ''}.`;
}
