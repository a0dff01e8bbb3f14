import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { AdminRequestSummary, SensitiveRequest as Sensitive } from '../../domain/admin-views';
import { api, errorMessage } from '../podium-client';
import { loadStates } from '../load-states';
import { isFinalStatus } from '../request-statuses';
import { sharedStyles } from '../styles';
import { filterInput, filtersSearch, keepFiltersInUrl, readFilters } from '../url-filters';

type AdminRequest = AdminRequestSummary & { links: { temporal: string | null } };
type Page = { requests: AdminRequest[]; nextCursor: string | null };

const filterNames = ['user', 'session', 'model', 'status', 'from', 'to'] as const;
type Filters = Record<(typeof filterNames)[number], string>;
const ms = (value: number | null) => (value === null ? '—' : `${Math.round(value)}`);

/**
 * Every user's requests for admins: filters kept in the URL, re-queue / fail with confirmation,
 * and the input and result only on demand ("View data"), which the server audits.
 */
export class AdminRequestsPage extends LitElement {
  static override properties = {
    filters: { state: true },
    cursor: { state: true },
    error: { state: true },
    notice: { state: true },
    sensitive: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      td.actions {
        white-space: nowrap;
      }
      /* Under its row, and kept in view while the wide table scrolls sideways. */
      .sensitive {
        position: sticky;
        left: 0;
        max-width: calc(100vw - 3rem);
        margin: 0.5rem 0;
      }
      .sensitive pre {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        max-height: 24rem;
        overflow-y: auto;
      }
    `,
  ];
  declare filters: Filters;
  /** Where "Load more" continues from; none: the first page. */
  declare cursor: string | undefined;
  /** What the last action could not do. */
  declare error: string | null;
  declare notice: string | null;
  declare sensitive: Sensitive | null;
  /** The requests shown: the first page for the filters, and each page loaded after it. */
  private readonly listing = new Task(this, {
    task: async ([filters, cursor]: readonly [Filters, string | undefined]): Promise<Page> => {
      const page = await api.call<Page>(
        'GET',
        `/api/admin/requests${filtersSearch(filters, cursor ? { cursor } : {})}`,
      );
      const earlier: AdminRequest[] = cursor ? (this.listing.value?.requests ?? []) : [];
      return { ...page, requests: [...earlier, ...page.requests] };
    },
    args: () => [this.filters, this.cursor] as const,
  });

  constructor() {
    super();
    this.filters = readFilters(filterNames);
    this.cursor = undefined;
    this.error = null;
    this.notice = null;
    this.sensitive = null;
  }

  private setFilter(name: keyof Filters, value: string) {
    // Model ids are lower case: `Echo` finds echo's requests.
    this.filters = { ...this.filters, [name]: name === 'model' ? value.trim().toLowerCase() : value };
    this.cursor = undefined;
    keepFiltersInUrl(this.filters);
  }

  /** From the first page again, after an action changed what it shows. */
  private async reload() {
    this.cursor = undefined;
    await this.listing.run([this.filters, undefined]);
  }

  /**
   * After an action: its request's workflow carries it out a moment later (a request on an
   * instance first has its call cut), so the list is read again until the row shows it: a failed
   * request has ended, a re-queued one has a new attempt. Up to about 30 s, then the page stays
   * as it is and Reload is there.
   */
  private async reloadUntilDone(request: AdminRequest, status: 'REQUESTED' | 'FAILED') {
    for (let look = 0, wait = 250; look < 20; look++, wait = Math.min(wait * 2, 2000)) {
      await this.reload();
      const row = this.listing.value?.requests.find((r) => r.id === request.id);
      if (!row) return;
      if (status === 'FAILED' ? isFinalStatus(row.status) : row.attempt !== request.attempt) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async copy(text: string) {
    await navigator.clipboard.writeText(text).then(
      () => (this.notice = `Copied ${text}.`),
      () => (this.error = 'The browser did not let the page copy; select the id instead.'),
    );
  }

  private async setStatus(request: AdminRequest, status: 'REQUESTED' | 'FAILED') {
    const asked =
      status === 'FAILED'
        ? prompt(`Fail request ${request.id.slice(0, 8)}? Give a reason:`)
        : confirm(`Re-queue request ${request.id.slice(0, 8)} (${request.status})?`) && 're-queued by an admin';
    if (asked === null || asked === false) return; // the admin thought better of it
    const reason = asked.trim();
    if (!reason) {
      this.notice = null;
      this.error = 'A reason is needed to fail a request: it is kept with the request and in the audit log.';
      return;
    }
    try {
      const answer = await api.call<{ previousStatus: string }>('POST', `/api/admin/requests/${request.id}/status`, {
        body: {
          status,
          reason,
        },
      });
      this.notice = `Request ${request.id.slice(0, 8)}: ${answer.previousStatus} → ${status} requested.`;
      this.error = null;
      await this.reloadUntilDone(request, status);
    } catch (error) {
      this.notice = null;
      this.error = errorMessage(error, { withCode: true });
    }
  }

  private async viewData(request: AdminRequest) {
    try {
      this.sensitive = await api.call<Sensitive>('GET', `/api/admin/requests/${request.id}/sensitive`);
      // It opens under its row: bring it into view, and the focus with it.
      await this.updateComplete;
      const panel = this.renderRoot.querySelector<HTMLElement>('[data-testid="sensitive"]');
      panel?.scrollIntoView({ block: 'nearest' });
      panel?.focus();
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  /** A request's input and result, in a row of their own under the request's. */
  private renderSensitive(sensitive: Sensitive) {
    return html`<tr class="detail">
      <td colspan="13">
        <div class="sensitive" data-testid="sensitive" tabindex="-1">
          <strong>Request ${sensitive.id.slice(0, 8)}: input and result (this view was logged)</strong>
          <pre tabindex="0">
${JSON.stringify({ input: sensitive.input, result: sensitive.result, error: sensitive.error }, null, 2)}</pre>
          <button class="secondary" @click=${() => (this.sensitive = null)}>Hide</button>
        </div>
      </td>
    </tr>`;
  }

  private input(name: keyof Filters, label: string, type = 'text') {
    return filterInput(name, label, this.filters[name], (value) => this.setFilter(name, value), type);
  }

  override render() {
    // The last answer, kept on screen while the next one is on its way.
    const page = this.listing.value;
    return html`
      <h1>All requests</h1>
      <div class="filters">
        ${this.input('user', 'User (id or username)')} ${this.input('session', 'Anonymous session id')}
        ${this.input('model', 'Model')}
        <label
          >Status
          <select
            data-testid="filter-status"
            @change=${(e: Event) => this.setFilter('status', (e.target as HTMLSelectElement).value)}
          >
            ${['', 'REQUESTED', 'PROCESSING', 'COMPLETE', 'FAILED', 'CANCELLED'].map(
              (s) => html`<option value=${s} ?selected=${this.filters.status === s}>${s || 'all'}</option>`,
            )}
          </select>
        </label>
        ${this.input('from', 'From (UTC day)', 'date')} ${this.input('to', 'To (UTC day, included)', 'date')}
      </div>
      ${this.notice ? html`<p class="notice" role="status" data-testid="notice">${this.notice}</p>` : ''}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      ${this.listing.status === TaskStatus.ERROR ? loadStates().error(this.listing.error) : ''}
      ${page || this.listing.status === TaskStatus.ERROR ? '' : loadStates().pending()}
      ${page?.requests.length === 0 ? html`<p data-testid="requests-empty">No requests match these filters.</p>` : ''}
      ${
        page && page.requests.length > 0
          ? html`<table data-testid="admin-requests">
              <thead>
                <tr>
                  <th>Request</th>
                  <th>Status</th>
                  <th>Model</th>
                  <th>Who</th>
                  <th>Requested (UTC)</th>
                  <th>Started</th>
                  <th>Finished</th>
                  <th>Instance</th>
                  <th>Result</th>
                  <th>Wait ms</th>
                  <th>Run ms</th>
                  <th>Total ms</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${page.requests.map(
                  (r) =>
                    html`<tr data-request=${r.id}>
                        <td>
                          <code title=${r.id}>${r.id.slice(0, 8)}</code>
                          <button
                            class="secondary"
                            data-testid="copy-id"
                            title="Copy the whole id"
                            aria-label="Copy request id ${r.id}"
                            @click=${() => this.copy(r.id)}
                          >
                            Copy</button
                          >${r.links.temporal ? html` <a href=${r.links.temporal} target="_blank" rel="noopener">workflow</a>` : ''}
                        </td>
                        <td class="status-${r.status}">
                          ${r.status}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}${
                            r.priority === 'normal'
                              ? ''
                              : html` <span class="priority" data-testid="priority">${r.priority} priority</span>`
                          }${
                            r.deadline
                              ? html` <span class="deadline" data-testid="deadline" title=${r.deadline}
                                  >due ${r.deadline.slice(11, 19)}</span
                                >`
                              : ''
                          }
                        </td>
                        <td>${r.model}</td>
                        <td>
                          ${
                            r.anonymous
                              ? html`anonymous
                                  <a
                                    href="#"
                                    title="Only this session's requests"
                                    data-testid="filter-by-session"
                                    @click=${(e: Event) => (e.preventDefault(), this.setFilter('session', r.sessionId))}
                                    ><code>${r.sessionId.slice(0, 8)}</code></a
                                  >`
                              : html`<a
                                  href="#"
                                  title="Only this user's requests"
                                  data-testid="filter-by-user"
                                  @click=${(e: Event) => (e.preventDefault(), this.setFilter('user', r.username ?? r.userId!))}
                                  >${r.username}</a
                                >`
                          }
                        </td>
                        <td>${r.createdAt.slice(0, 19).replace('T', ' ')}</td>
                        <td>${r.startedAt?.slice(11, 19) ?? '—'}</td>
                        <td>${r.finishedAt?.slice(11, 19) ?? '—'}</td>
                        <td>
                          ${
                            r.instanceId
                              ? html`<a href="/admin/instances/${r.instanceId}" title=${r.instanceId}
                                  ><code>${r.instanceId.slice(0, 8)}</code></a
                                >`
                              : '—'
                          }
                        </td>
                        <td>${r.errorCode ?? (r.status === 'COMPLETE' ? 'ok' : '—')}</td>
                        <td class="number">${ms(r.waitMs)}</td>
                        <td class="number">${ms(r.runMs)}</td>
                        <td class="number">${ms(r.totalMs)}</td>
                        <td class="actions">
                          <button
                            class="secondary"
                            data-testid="requeue"
                            ?disabled=${r.status === 'COMPLETE' /* requeueableStatuses in domain/request-status.ts */}
                            @click=${() => this.setStatus(r, 'REQUESTED')}
                          >
                            Re-queue
                          </button>
                          <button
                            class="secondary"
                            data-testid="fail"
                            ?disabled=${isFinalStatus(r.status)}
                            @click=${() => this.setStatus(r, 'FAILED')}
                          >
                            Fail…
                          </button>
                          <button
                            class="secondary"
                            data-testid="view-data"
                            aria-expanded=${this.sensitive?.id === r.id}
                            @click=${() => (this.sensitive?.id === r.id ? (this.sensitive = null) : this.viewData(r))}
                          >
                            View data
                          </button>
                        </td>
                      </tr>
                      ${this.sensitive?.id === r.id ? this.renderSensitive(this.sensitive) : ''}`,
                )}
              </tbody>
            </table>`
          : ''
      }
      ${page?.nextCursor ? html`<p><button class="secondary" @click=${() => (this.cursor = page.nextCursor!)}>Load more</button></p>` : ''}
    `;
  }
}
customElements.define('admin-requests-page', AdminRequestsPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-requests-page': AdminRequestsPage;
  }
}
