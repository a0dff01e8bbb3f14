import { Task } from '@lit/task';
import { html, LitElement, css } from 'lit';
import type { InstanceHistoryView } from '../../domain/instances';
import { api } from '../podium-client';
import { loadStates } from '../load-states';
import { sharedStyles } from '../styles';

type History = InstanceHistoryView;

const time = (iso: string) => iso.slice(0, 23).replace('T', ' ');
const describe = (entry: History['timeline'][number]) => {
  switch (entry.event) {
    case 'SCHEDULED':
      return entry.detail.node ? `scheduled on ${entry.detail.node}` : 'placed';
    case 'PENDING':
      return `waiting: ${entry.detail.reason} — ${entry.detail.message}`;
    case 'ASSIGNED':
      return html`assigned to request <code>${entry.requestId?.slice(0, 8)}</code>`;
    case 'RELEASED':
      return html`released by request <code>${entry.requestId?.slice(0, 8)}</code>`;
    case 'STOPPING':
    case 'TERMINATED':
      return `${entry.event.toLowerCase()} (${entry.detail.reason ?? ''})`;
    case 'FAILED':
      return `failed: ${entry.detail.message ?? ''}`;
    default:
      return entry.event.toLowerCase();
  }
};

/** One instance's life: its log, the requests it served, and its pool workflow's events about it. */
export class AdminInstancePage extends LitElement {
  static override properties = { instanceId: {} };
  static override styles = [
    sharedStyles,
    css`
      ol {
        padding-left: 1.2rem;
      }
      li {
        margin: 0.2rem 0;
      }
      .when {
        color: #475467;
        font-variant-numeric: tabular-nums;
        margin-right: 0.5rem;
      }
    `,
  ];
  declare instanceId: string;
  private readonly history = new Task(this, {
    task: ([id]) => api.call<History>('GET', `/api/admin/instances/${encodeURIComponent(id!)}`),
    args: () => [this.instanceId],
  });

  constructor() {
    super();
    this.instanceId = '';
  }

  override render() {
    return this.history.render({
      ...loadStates({ before: html`<h1>Instance</h1>` }),
      complete: (history) => this.renderHistory(history),
    });
  }

  private renderHistory({ instance, timeline, runtimeEvents, requests, workflow }: History) {
    return html`
      <h1>Instance <code>${instance.id.slice(0, 8)}</code> of ${instance.modelId}</h1>
      <p>
        ${instance.runtime} <code>${instance.runtimeRef ?? '—'}</code>, now ${instance.status}.
        <a href="/admin/instances">All active instances</a>
      </p>
      <h2>Timeline (UTC)</h2>
      <ol data-testid="timeline">
        ${timeline.map((entry) => html`<li><span class="when">${time(entry.occurredAt)}</span>${describe(entry)}</li>`)}
      </ol>
      <h2>Kubernetes events</h2>
      ${
        runtimeEvents.length === 0
          ? html`<p>None recorded${instance.runtime === 'local' ? ' (a local process has none)' : ''}.</p>`
          : html`<table tabindex="0" data-testid="runtime-events">
              <thead>
                <tr>
                  <th>Last seen (UTC)</th>
                  <th>Type</th>
                  <th>Reason</th>
                  <th>Message</th>
                  <th>From</th>
                  <th>Count</th>
                </tr>
              </thead>
              <tbody>
                ${runtimeEvents.map(
                  (e) =>
                    html`<tr>
                      <td>${time(e.lastAt)}</td>
                      <td>${e.type}</td>
                      <td>${e.reason}</td>
                      <td>${e.message}</td>
                      <td>${e.source ?? '—'}</td>
                      <td>${e.count}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Requests served</h2>
      ${
        requests.length === 0
          ? html`<p>None.</p>`
          : html`<table tabindex="0" data-testid="served">
              <thead>
                <tr>
                  <th>Request</th>
                  <th>Status</th>
                  <th>Requested (UTC)</th>
                  <th>Total ms</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${requests.map(
                  (r) =>
                    html`<tr>
                      <td><code>${r.id.slice(0, 8)}</code></td>
                      <td class="status-${r.status}">${r.status}</td>
                      <td>${time(r.createdAt)}</td>
                      <td>${r.totalMs === null ? '—' : Math.round(r.totalMs)}</td>
                      <td>
                        ${r.links.temporal ? html`<a href=${r.links.temporal} target="_blank" rel="noopener">workflow</a>` : ''}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Pool workflow</h2>
      <p>
        <code>${workflow.id}</code>
        ${workflow.link ? html`<a href=${workflow.link} target="_blank" rel="noopener">open in the Temporal Web UI</a>` : ''}
        — its events about this instance (current run).
      </p>
      ${
        workflow.events === null
          ? html`<p>The pool workflow is not running any more.</p>`
          : html`<table tabindex="0" data-testid="workflow-events">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Time (UTC)</th>
                  <th>Event</th>
                  <th>Detail</th>
                </tr>
              </thead>
              <tbody>
                ${workflow.events.map(
                  (e) =>
                    html`<tr>
                      <td>${e.eventId}</td>
                      <td>${time(e.time)}</td>
                      <td>${e.type.toLowerCase().replaceAll('_', ' ')} <strong>${e.name ?? ''}</strong></td>
                      <td><code>${JSON.stringify(e.detail)}</code></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    `;
  }
}
customElements.define('admin-instance-page', AdminInstancePage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-instance-page': AdminInstancePage;
  }
}
