import { html } from 'lit';

/** Filters kept in the page URL (so a view can be shared), read and written as plain strings. */
export function readFilters<K extends string>(names: readonly K[], search = location.search): Record<K, string> {
  const params = new URLSearchParams(search);
  return Object.fromEntries(names.map((name) => [name, params.get(name) ?? ''])) as Record<K, string>;
}

/** The query string of the non-empty filters, with `?`, or ''. */
export function filtersSearch(filters: Record<string, string>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...extra })) if (value) params.set(name, value);
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** Replaces the page URL's query with the filters, without a reload or a history entry. */
export function keepFiltersInUrl(filters: Record<string, string>): void {
  history.replaceState(null, '', `${location.pathname}${filtersSearch(filters)}`);
}

/** A labelled filter input (`data-testid="filter-<name>"`) that reports its trimmed value on change. */
export function filterInput(
  name: string,
  label: string,
  value: string,
  onChange: (value: string) => void,
  type = 'text',
) {
  return html`<label
    >${label}
    <input
      type=${type}
      data-testid="filter-${name}"
      .value=${value}
      @change=${(e: Event) => onChange((e.target as HTMLInputElement).value.trim())}
  /></label>`;
}
