import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { PublicModelView } from '../../domain/model-catalog';
import type { StatsGroup, StatsRow } from '../../domain/stats-query';
import type { StatsSource } from '../../domain/stats-rollup-group';
import { api, errorMessage } from '../podium-client';
import { type ChartPoint } from '../stats/stats-chart';
import '../stats/stats-chart';
import { sourceNote } from '../stats/source-note';
import { chartBucket, filtersFromSearch, searchFromFilters, type StatsFilters } from '../stats/stats-filters';
import { sharedStyles } from '../styles';

type StatsPage = {
  grouped: boolean;
  source: StatsSource;
  rows: Array<StatsRow | StatsGroup>;
  nextCursor: string | null;
};

const ms = (value: number | null | undefined) => (value === null || value === undefined ? '—' : value.toFixed(1));
const rate = (value: number | null) => (value === null ? '—' : value.toFixed(0));
const timestamp = (iso: string) => iso.slice(0, 19).replace('T', ' ');

/**
 * Request stats for admins: filters, rollup toggles (combinable), a chart of volume and p90
 * total time, the table, and a CSV download of exactly what the table shows (every page).
 * The filters live in the URL. Dates are UTC days.
 */
export class AdminStatsPage extends LitElement {
  static override properties = { filters: { state: true }, cursor: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      .filters select[multiple] {
        min-width: 10rem;
        height: 4.5rem;
      }
      .toggles {
        display: flex;
        gap: 0.4rem;
      }
      button[aria-pressed='true'] {
        background: #2f6fed;
        color: white;
      }
      button[aria-pressed='false'] {
        background: white;
        color: #2456c7;
      }
      .actions {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        margin: 0.75rem 0;
      }
      stats-chart {
        margin-bottom: 1rem;
      }
    `,
  ];
  declare filters: StatsFilters;
  /** Where "Load more" continues from; none: the first page. */
  declare cursor: string | undefined;
  /** The catalog's models for the filter (without it, the filter still takes the URL's ids). */
  private readonly models = new Task(this, {
    task: async () => (await api.call<{ models: PublicModelView[] }>('GET', '/api/models')).models,
    args: () => [],
  });
  /** Table and chart for the filters; "Load more" appends the next page of the table. */
  private readonly view = new Task(this, {
    task: async ([filters, cursor]: readonly [StatsFilters, string | undefined]): Promise<{
      page: StatsPage;
      chart: ChartPoint[];
    }> => {
      const previous = this.view.value;
      if (cursor && previous) {
        const next = await api.call<StatsPage>(
          'GET',
          `/api/admin/stats${searchFromFilters(filters, { limit: '100', cursor })}`,
        );
        return { page: { ...next, rows: [...previous.page.rows, ...next.rows] }, chart: previous.chart };
      }
      const [page, chart] = await Promise.all([
        api.call<StatsPage>('GET', `/api/admin/stats${searchFromFilters(filters, { limit: '100' })}`),
        api.call<StatsPage>(
          'GET',
          `/api/admin/stats${searchFromFilters({ ...filters, byModel: false, byStatus: false, bucket: chartBucket(filters) })}`,
        ),
      ]);
      return {
        page,
        chart: (chart.rows as StatsGroup[]).map((g) => ({
          bucket: g.bucket!,
          count: g.count,
          p90TotalMs: g.totalMs.p90,
        })),
      };
    },
    args: () => [this.filters, this.cursor] as const,
  });

  constructor() {
    super();
    this.filters = filtersFromSearch(location.search);
    this.cursor = undefined;
  }

  private applyFilters(change: Partial<StatsFilters>) {
    this.filters = { ...this.filters, ...change };
    this.cursor = undefined;
    history.replaceState(null, '', `${location.pathname}${searchFromFilters(this.filters)}`);
  }

  /** Every row of the current view (all pages), streamed by the API as CSV. */
  private async downloadCsv() {
    // Make sure the access cookie is fresh: a plain link cannot refresh it.
    await api.call('GET', '/api/auth/me').catch(() => undefined);
    const link = document.createElement('a');
    link.href = `/api/admin/stats${searchFromFilters(this.filters, { format: 'csv' })}`;
    link.download = '';
    document.body.append(link);
    link.click();
    link.remove();
  }

  private renderFilters() {
    const f = this.filters;
    const modelIds = [...new Set([...(this.models.value ?? []).map((m) => m.id), ...f.models])];
    return html`
      <div class="filters">
        <label
          >Models
          <select
            multiple
            data-testid="filter-models"
            @change=${(e: Event) => this.applyFilters({ models: [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value) })}
          >
            ${modelIds.map((id) => html`<option value=${id} ?selected=${f.models.includes(id)}>${id}</option>`)}
          </select>
        </label>
        <label
          >From (UTC day)
          <input
            type="date"
            data-testid="filter-from"
            .value=${f.from}
            @change=${(e: Event) => this.applyFilters({ from: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label
          >To (UTC day, included)
          <input
            type="date"
            data-testid="filter-to"
            .value=${f.to}
            @change=${(e: Event) => this.applyFilters({ to: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label
          >Status
          <select
            data-testid="filter-status"
            @change=${(e: Event) => this.applyFilters({ status: (e.target as HTMLSelectElement).value as StatsFilters['status'] })}
          >
            <option value="" ?selected=${f.status === ''}>all</option>
            <option value="success" ?selected=${f.status === 'success'}>success</option>
            <option value="failure" ?selected=${f.status === 'failure'}>failure</option>
          </select>
        </label>
        <label
          >Per
          <select
            data-testid="filter-bucket"
            @change=${(e: Event) => this.applyFilters({ bucket: (e.target as HTMLSelectElement).value as StatsFilters['bucket'] })}
          >
            <option value="" ?selected=${f.bucket === ''}>—</option>
            <option value="hour" ?selected=${f.bucket === 'hour'}>hour</option>
            <option value="day" ?selected=${f.bucket === 'day'}>day</option>
          </select>
        </label>
        <div class="toggles" role="group" aria-label="Roll up">
          <button
            aria-pressed=${f.byModel}
            data-testid="rollup-model"
            @click=${() => this.applyFilters({ byModel: !f.byModel })}
          >
            By model
          </button>
          <button
            aria-pressed=${f.byStatus}
            data-testid="rollup-status"
            @click=${() => this.applyFilters({ byStatus: !f.byStatus })}
          >
            By status
          </button>
        </div>
      </div>
    `;
  }

  private renderTable(page: StatsPage) {
    if (page.rows.length === 0) return html`<p data-testid="stats-empty">No requests match these filters.</p>`;
    if (!page.grouped) {
      return html`<table tabindex="0" data-testid="stats-table">
        <thead>
          <tr>
            <th>Request time (UTC)</th>
            <th>Model</th>
            <th>Status</th>
            <th class="number">Queue wait ms</th>
            <th class="number">Processing ms</th>
            <th class="number">Total ms</th>
            <th class="number">First token ms</th>
            <th class="number">Tokens in / out</th>
            <th class="number">Tokens/s</th>
          </tr>
        </thead>
        <tbody>
          ${(page.rows as StatsRow[]).map(
            (r) =>
              html`<tr>
                <td>${timestamp(r.requestTimestamp)}</td>
                <td>${r.model}</td>
                <td>
                  ${r.status}${r.priority && r.priority !== 'normal' ? ` (${r.priority} priority)` : ''}${
                    r.deadline ? html` <span title=${r.deadline}>due ${r.deadline.slice(11, 19)}</span>` : ''
                  }
                </td>
                <td class="number">${ms(r.queueWaitMs)}</td>
                <td class="number">${ms(r.processingMs)}</td>
                <td class="number">${ms(r.totalMs)}</td>
                <td class="number">${ms(r.firstTokenMs)}</td>
                <td class="number">${r.tokensIn === null ? '—' : `${r.tokensIn} / ${r.tokensOut ?? '—'}`}</td>
                <td class="number">${rate(r.tokensPerSecond)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    }
    const f = this.filters;
    return html`<table tabindex="0" data-testid="stats-table">
      <thead>
        <tr>
          ${f.bucket ? html`<th>${f.bucket === 'hour' ? 'Hour' : 'Day'} (UTC)</th>` : ''}
          ${f.byModel ? html`<th>Model</th>` : ''}${f.byStatus ? html`<th>Status</th>` : ''}
          <th class="number">Requests</th>
          <th class="number">Succeeded</th>
          <th class="number">Failed</th>
          <th class="number">Queue wait p50 / p90 ms</th>
          <th class="number">Processing p50 / p90 ms</th>
          <th class="number">Total avg / p50 / p90 / p99 / max ms</th>
          <th class="number">First token p50 / p90 ms</th>
          <th class="number">Tokens in / out</th>
          <th class="number">Tokens/s</th>
        </tr>
      </thead>
      <tbody>
        ${(page.rows as StatsGroup[]).map(
          (g) =>
            html`<tr>
              ${f.bucket ? html`<td>${timestamp(g.bucket!).slice(0, f.bucket === 'hour' ? 16 : 10)}</td>` : ''}
              ${f.byModel ? html`<td>${g.model}</td>` : ''}${f.byStatus ? html`<td>${g.status}</td>` : ''}
              <td class="number">${g.count}</td>
              <td class="number">${g.successCount}</td>
              <td class="number">${g.failureCount}</td>
              <td class="number">${ms(g.queueWaitMs.p50)} / ${ms(g.queueWaitMs.p90)}</td>
              <td class="number">${ms(g.processingMs.p50)} / ${ms(g.processingMs.p90)}</td>
              <td class="number">
                ${[g.totalMs.avg, g.totalMs.p50, g.totalMs.p90, g.totalMs.p99, g.totalMs.max].map(ms).join(' / ')}
              </td>
              <td class="number">${ms(g.firstTokenMs.p50)} / ${ms(g.firstTokenMs.p90)}</td>
              <td class="number">${g.tokensIn} / ${g.tokensOut}</td>
              <td class="number">${rate(g.tokensPerSecond)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  override render() {
    // The last answer, kept on screen while the next one is on its way.
    const view = this.view.value;
    const failed = this.view.status === TaskStatus.ERROR;
    return html`
      <h1>Request stats</h1>
      ${this.renderFilters()}
      <p class="note">
        Dates are whole days in UTC; "to" includes its whole day. Times are UTC. Queue wait = pod ready − request;
        processing = processed − pod ready; total = processed − request; first token = a streamed output's first token −
        request; tokens from the model's usage; tokens/s = tokens out over first token → processed.
      </p>
      ${view && view.chart.length > 0 ? html`<stats-chart .points=${view.chart} bucket=${chartBucket(this.filters)}></stats-chart>` : ''}
      <div class="actions">
        <button
          class="secondary"
          data-testid="download-csv"
          ?disabled=${!view || view.page.rows.length === 0}
          @click=${this.downloadCsv}
        >
          Download CSV
        </button>
        ${this.view.status === TaskStatus.PENDING ? html`<span data-testid="stats-loading">Loading…</span>` : ''}
      </div>
      ${failed ? html`<p class="error" role="alert" data-testid="stats-error">${errorMessage(this.view.error)}</p>` : ''}
      ${view ? this.renderTable(view.page) : ''}
      ${
        view && view.page.rows.length > 0 && sourceNote(view.page.source, view.page.grouped)
          ? html`<p class="note" data-testid="stats-source">${sourceNote(view.page.source, view.page.grouped)}</p>`
          : ''
      }
      ${
        view?.page.nextCursor
          ? html`<p>
              <button class="secondary" data-testid="load-more" @click=${() => (this.cursor = view.page.nextCursor!)}>
                Load more
              </button>
            </p>`
          : ''
      }
    `;
  }
}
customElements.define('admin-stats-page', AdminStatsPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-stats-page': AdminStatsPage;
  }
}
