import { rollupsSource, rowsSource } from '../../domain/stats-rollup-group';
import { sourceNote } from '../../web/stats/source-note';

describe('what the stats page says about its figures', () => {
  it('from the rollups: percentiles approximate, and by how much; the rest exact', () => {
    expect(sourceNote(rollupsSource, true)).toBe(
      'Percentiles are estimated from rollups, each within 1 % of the exact value; ' +
        'counts, averages and maxima are exact. The CSV is computed from every request, with exact percentiles.',
    );
  });

  it('from the rows: exact, and why the rollups were not used', () => {
    expect(sourceNote(rowsSource('a backfill is pending'), true)).toBe(
      'Exact figures, computed from every request: a backfill is pending.',
    );
  });

  it('raw rows need no note', () => {
    expect(sourceNote(rowsSource(null), false)).toBeNull();
  });
});
