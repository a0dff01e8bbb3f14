import { statsCsvColumns, statsCsvFilename, statsCsvRecord, statsQuery } from '../../domain/stats-query';
import { chartBucket, filtersFromSearch, noFilters, searchFromFilters } from '../../web/stats/stats-filters';

describe('statsQuery', () => {
  it('reads lists comma-separated or repeated, without duplicates', () => {
    expect(statsQuery.parse({ model: ['echo,sentiment', 'echo'], rollup: 'status,model,status' })).toMatchObject({
      model: ['echo', 'sentiment'],
      rollup: ['status', 'model'],
    });
  });

  it('has defaults: UTC, 100 rows, no filter', () => {
    expect(statsQuery.parse({})).toEqual({ model: [], rollup: [], tz: 'UTC', limit: 100 });
  });

  it.each([
    [{ from: '2026-02-29' }, 'from', 'is not a calendar date'],
    [{ to: '2026-11-1' }, 'to', 'must be a date as YYYY-MM-DD'],
    [{ from: '2026-11-02', to: '2026-11-01' }, 'to', 'must not be before from'],
    [{ rollup: 'model,day' }, 'rollup', 'must be one of: model, status'],
    [{ tz: 'Europe/Atlantis' }, 'tz', 'is not an IANA time zone'],
    [{ bucket: 'day', cursor: '12' }, 'cursor', 'only raw rows are paginated'],
  ])('refuses %j, naming %s', (raw, parameter, message) => {
    const result = statsQuery.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error!.issues).toContainEqual(
      expect.objectContaining({ path: expect.arrayContaining([parameter]), message: expect.stringContaining(message) }),
    );
  });
});

describe('CSV columns', () => {
  it('raw rows: one column per field', () => {
    expect(statsCsvColumns({ rollup: [], bucket: undefined })).toEqual([
      'id',
      'model',
      'request_id',
      'attempt',
      'status',
      'priority',
      'deadline',
      'request_timestamp',
      'pod_ready_timestamp',
      'processed_timestamp',
      'queue_wait_ms',
      'processing_ms',
      'total_ms',
      'first_token_ms',
      'tokens_in',
      'tokens_out',
      'tokens_per_second',
    ]);
  });

  it('groups: the keys asked for, counts, then every timing flattened — matching statsCsvRecord', () => {
    const columns = statsCsvColumns({ rollup: ['status'], bucket: 'day' });
    const timing = { avg: 1, p50: 2, p90: 3, p99: 4, max: 5 };
    const record = statsCsvRecord({
      bucket: '2026-11-01T00:00:00.000000Z',
      status: 'success',
      count: 3,
      successCount: 3,
      failureCount: 0,
      queueWaitMs: timing,
      processingMs: timing,
      totalMs: { ...timing, max: null },
      firstTokenMs: timing,
      tokensIn: 40,
      tokensOut: 300,
      tokensPerSecond: 150,
    });
    expect(columns.slice(0, 5)).toEqual(['bucket', 'status', 'count', 'success_count', 'failure_count']);
    expect(Object.keys(record).sort()).toEqual([...columns].sort());
    expect(record).toMatchObject({
      queue_wait_ms_p90: 3,
      total_ms_max: null,
      first_token_ms_p50: 2,
      tokens_per_second: 150,
    });
  });
});

describe('the CSV file name', () => {
  it('says the period, the rollups and the bucket', () => {
    expect(
      statsCsvFilename(
        statsQuery.parse({ from: '2026-11-01', to: '2026-11-30', rollup: 'model,status', bucket: 'day' }),
      ),
    ).toBe('podium-stats_2026-11-01_2026-11-30_by-model-status_per-day.csv');
  });

  it('names up to three models, and an open period by its ends', () => {
    expect(statsCsvFilename(statsQuery.parse({ model: 'echo,sentiment' }))).toBe(
      'podium-stats_start_now_echo-sentiment.csv',
    );
    expect(statsCsvFilename(statsQuery.parse({ model: 'a,b,c,d' }))).toBe('podium-stats_start_now.csv');
  });
});

describe('stats page filters in the URL', () => {
  it('round-trip through the query string', () => {
    const filters = {
      ...noFilters,
      models: ['echo', 'fail'],
      from: '2026-11-01',
      to: '2026-11-30',
      status: 'failure' as const,
      byModel: true,
      byStatus: true,
      bucket: 'day' as const,
    };
    const search = searchFromFilters(filters);
    expect(search).toBe(
      '?model=echo%2Cfail&from=2026-11-01&to=2026-11-30&status=failure&rollup=model%2Cstatus&bucket=day',
    );
    expect(filtersFromSearch(search)).toEqual(filters);
  });

  it('ignores what it does not know', () => {
    expect(filtersFromSearch('?status=maybe&bucket=week&rollup=colour')).toEqual(noFilters);
  });

  it('charts by hour for two days or less, by day beyond', () => {
    expect(chartBucket({ from: '2026-11-01', to: '2026-11-02' })).toBe('hour');
    expect(chartBucket({ from: '2026-11-01', to: '2026-11-03' })).toBe('day');
    expect(chartBucket({ from: '', to: '' })).toBe('day');
  });
});
