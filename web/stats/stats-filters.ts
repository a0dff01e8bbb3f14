/** What the stats page shows, as kept in its URL (so a view can be shared). Pure. */
export type StatsFilters = {
  models: string[];
  from: string;
  to: string;
  status: '' | 'success' | 'failure';
  byModel: boolean;
  byStatus: boolean;
  bucket: '' | 'hour' | 'day';
};

export const noFilters: StatsFilters = {
  models: [],
  from: '',
  to: '',
  status: '',
  byModel: false,
  byStatus: false,
  bucket: '',
};

export function filtersFromSearch(search: string): StatsFilters {
  const params = new URLSearchParams(search);
  const list = (name: string) =>
    params
      .getAll(name)
      .flatMap((v) => v.split(','))
      .filter(Boolean);
  const rollup = list('rollup');
  const status = params.get('status');
  const bucket = params.get('bucket');
  return {
    models: list('model'),
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    status: status === 'success' || status === 'failure' ? status : '',
    byModel: rollup.includes('model'),
    byStatus: rollup.includes('status'),
    bucket: bucket === 'hour' || bucket === 'day' ? bucket : '',
  };
}

/** The API's query string for these filters (and the page's own URL). */
export function searchFromFilters(filters: StatsFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filters.models.length > 0) params.set('model', filters.models.join(','));
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (filters.status) params.set('status', filters.status);
  const rollup = [filters.byModel && 'model', filters.byStatus && 'status'].filter(Boolean);
  if (rollup.length > 0) params.set('rollup', rollup.join(','));
  if (filters.bucket) params.set('bucket', filters.bucket);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** Hourly buckets for a range of two days or less, daily otherwise: enough bars, not too many. */
export function chartBucket(filters: Pick<StatsFilters, 'from' | 'to'>): 'hour' | 'day' {
  if (!filters.from || !filters.to) return 'day';
  const days = (Date.parse(filters.to) - Date.parse(filters.from)) / 86_400_000 + 1;
  return days <= 2 ? 'hour' : 'day';
}
