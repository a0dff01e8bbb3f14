import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { AdminInstance, AdminInstancesView } from '../../domain/instances';
import type { AutoscalerDecision } from '../../domain/autoscaler-decision';
import { api, errorMessage } from '../podium-client';
import { loadStates } from '../load-states';
import { sharedStyles } from '../styles';
import { filterInput, filtersSearch, keepFiltersInUrl, readFilters } from '../url-filters';

const filterNames = ['model', 'from', 'to', 'status'] as const;

/**
 * The status filter's fixed set: a live instance's status in Podium (instanceEvent in
 * domain/instances.ts, those before it ends), then a pod's phase.
 */
const statusChoices: [string, string][] = [
  ['', 'all'],
  ...['CREATED', 'SCHEDULED', 'PENDING', 'READY', 'ASSIGNED', 'RELEASED', 'STOPPING'].map((s): [string, string] => [
    s,
    `${s.toLowerCase()} (instance)`,
  ]),
  ...['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((s): [string, string] => [s, `${s} (pod)`]),
];
type Filters = Record<(typeof filterNames)[number], string>;
/** How often the list refreshes itself while the page is open. */
const refreshMs = 5_000;

/** Live model instances (pods or processes) with their raw runtime events; stop or replace one through its pool. */
export class AdminInstancesPage extends LitElement {
  static override properties = { filters: { state: true }, error: { state: true }, notice: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      details pre {
        max-height: 20rem;
        overflow: auto;
        font-size: 0.75rem;
      }
    `,
  ];
  declare filters: Filters;
  /** What the last action (a stop or a replace) could not do. */
  declare error: string | null;
  declare notice: string | null;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Re-runs when the filters change and on a timer; the last answer stays on screen meanwhile. */
  private readonly listing = new Task(this, {
    task: async ([filters]: readonly [Filters]) => {
      const [view, autoscaler] = await Promise.all([
        api.call<AdminInstancesView>('GET', `/api/admin/instances${filtersSearch(filters)}`),
        api.call<{ decisions: AutoscalerDecision[] }>('GET', '/api/admin/instances/autoscaler/decisions?limit=10'),
      ]);
      return { ...view, decisions: autoscaler.decisions };
    },
    args: () => [this.filters] as const,
  });

  constructor() {
    super();
    this.filters = readFilters(filterNames);
    this.error = null;
    this.notice = null;
  }

  override connectedCallback() {
    super.connectedCallback();
    this.timer = setInterval(() => void this.listing.run(), refreshMs);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private setFilter(name: keyof Filters, value: string) {
    this.filters = { ...this.filters, [name]: value };
    keepFiltersInUrl(this.filters);
  }

  /** Stop (now; its requests fail over) or replace (a new one first; its requests finish) an instance, through its pool. */
  private async act(instance: AdminInstance, action: 'stop' | 'replace') {
    const question =
      action === 'stop'
        ? `Stop instance ${instance.id?.slice(0, 8)} of ${instance.model}? Requests it serves now fail over.`
        : `Replace instance ${instance.id?.slice(0, 8)} of ${instance.model}? A new one starts; this one stops after the requests it serves.`;
    if (!instance.id || !confirm(question)) return;
    try {
      await api.call('POST', `/api/admin/instances/${instance.id}/${action}`);
      this.notice = `${action === 'stop' ? 'Stopping' : 'Replacing'} instance ${instance.id.slice(0, 8)}.`;
      this.error = null;
      await this.listing.run();
    } catch (error) {
      this.error = errorMessage(error, { withCode: true });
    }
  }

  private input(name: keyof Filters, label: string, type = 'text') {
    return filterInput(name, label, this.filters[name], (value) => this.setFilter(name, value), type);
  }

  override render() {
    // The last answer, kept on screen while the next one is on its way.
    const listing = this.listing.value;
    const instances = listing?.instances;
    const failingPools = listing?.pools.filter((pool) => pool.state === 'FAILING') ?? [];
    const decisions = listing?.decisions ?? [];
    return html`
      <h1>Active instances</h1>
      <div class="filters">
        ${this.input('model', 'Model')} ${this.input('from', 'Started from (UTC day)', 'date')}
        ${this.input('to', 'Started to (UTC day, included)', 'date')}
        <label
          >Status
          <select
            data-testid="filter-status"
            @change=${(e: Event) => this.setFilter('status', (e.target as HTMLSelectElement).value)}
          >
            ${statusChoices.map(
              ([value, label]) =>
                html`<option value=${value} ?selected=${(this.filters.status ?? '') === value}>${label}</option>`,
            )}
          </select>
        </label>
      </div>
      <p class="note">
        Refreshes every ${refreshMs / 1000} s${listing ? html`; last at ${listing.at.slice(11, 19)} UTC` : ''}.
        ${listing ? (listing.runtimeObservedAt ? html`Pods and processes as the workers saw them at ${listing.runtimeObservedAt.slice(11, 19)} UTC.` : html`No worker has reported its pods or processes lately: only Podium's records are shown.`) : ''}
      </p>
      ${this.notice ? html`<p class="notice" role="status" data-testid="notice">${this.notice}</p>` : ''}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      ${this.listing.status === TaskStatus.ERROR ? loadStates().error(this.listing.error) : ''}
      ${listing || this.listing.status === TaskStatus.ERROR ? '' : loadStates().pending()}
      ${failingPools.map(
        (pool) =>
          html`<p class="error" role="alert" data-testid="pool-failing">
            The pool of <strong>${pool.modelId}</strong> is failing (workflow <code>${pool.workflowId}</code>, workflow
            task attempt ${pool.workflowTaskAttempt}): its queued requests fail with MODEL_POOL_FAILING. The worker log
            and the workflow in the Temporal Web UI say why.
          </p>`,
      )}
      ${instances?.length === 0 ? html`<p data-testid="instances-empty">No live instances match these filters.</p>` : ''}
      ${
        instances && instances.length > 0
          ? html`<table data-testid="admin-instances">
              <thead>
                <tr>
                  <th>Instance</th>
                  <th>Model</th>
                  <th>Started (UTC)</th>
                  <th>Status</th>
                  <th>Pod / process</th>
                  <th>Node</th>
                  <th>Request</th>
                  <th>Events</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${instances.map(
                  (i) =>
                    html`<tr data-instance=${i.id ?? ''}>
                      <td>
                        ${i.id ? html`<a href="/admin/instances/${i.id}"><code>${i.id.slice(0, 8)}</code></a>` : html`<em>no record</em>`}
                      </td>
                      <td>${i.model ?? '—'}</td>
                      <td>${i.startedAt?.slice(0, 19).replace('T', ' ') ?? '—'}</td>
                      <td>${i.status ?? '—'}</td>
                      <td>
                        ${
                          i.runtime
                            ? html`<code>${i.runtime.runtimeRef}</code>
                                ${i.runtime.phase}${i.runtime.ready ? ', ready' : ''}${
                                  i.runtime.waiting
                                    ? html`<br /><span class="error"
                                          >${i.runtime.waiting.reason}: ${i.runtime.waiting.message}</span
                                        >`
                                    : ''
                                }`
                            : html`<span class="error">not found in the runtime</span>`
                        }
                      </td>
                      <td>${i.runtime?.node ?? '—'}</td>
                      <td>${i.assignedRequestId ? html`<code>${i.assignedRequestId.slice(0, 8)}</code>` : '—'}</td>
                      <td>
                        ${
                          i.runtime?.events
                            ? html`<details>
                                <summary>${i.runtime.events.length} events</summary>
                                <pre tabindex="0">${JSON.stringify(i.runtime.events, null, 2)}</pre>
                              </details>`
                            : '—'
                        }
                      </td>
                      <td class="actions">
                        ${
                          i.id
                            ? html`<button
                                  class="secondary"
                                  data-testid="replace"
                                  @click=${() => this.act(i, 'replace')}
                                >
                                  Replace
                                </button>
                                <button class="secondary" data-testid="stop" @click=${() => this.act(i, 'stop')}>
                                  Stop
                                </button>`
                            : ''
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : ''
      }
      <h2>Node autoscaler</h2>
      ${
        decisions.length === 0
          ? html`<p class="note">No decisions yet (node autoscaling is off, or nothing has needed a node).</p>`
          : html`<table tabindex="0" data-testid="autoscaler-decisions">
              <thead>
                <tr>
                  <th>Decided (UTC)</th>
                  <th>Pending pods</th>
                  <th>Nodes</th>
                  <th>Why</th>
                  <th>Done</th>
                </tr>
              </thead>
              <tbody>
                ${decisions.map(
                  (d) =>
                    html`<tr>
                      <td>${d.decidedAt.slice(0, 23).replace('T', ' ')}</td>
                      <td>${d.pendingPods}</td>
                      <td>${d.nodes}</td>
                      <td>${d.reasons.join('; ')}</td>
                      <td>${d.results.join('; ') || '—'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    `;
  }
}
customElements.define('admin-instances-page', AdminInstancesPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-instances-page': AdminInstancesPage;
  }
}
