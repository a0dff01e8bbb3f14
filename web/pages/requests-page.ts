import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { PublicModelView } from '../../domain/model-catalog';
import type { RequestInput, WorkRequestSummary, WorkRequestView } from '../../domain/work-request';
import { api, errorMessage } from '../podium-client';
import { loadStates } from '../load-states';
import { followRequestEvents } from '../request-events';
import { isFinalStatus } from '../request-statuses';
import { sharedStyles } from '../styles';

const examples: Record<string, unknown> = {
  echo: { inputs: [{ name: 'numbers', shape: [3], datatype: 'FP32', data: [1, 2, 3] }] },
  sentiment: {
    inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['What a lovely day', 'This is awful'] }],
  },
  fail: { inputs: [{ name: 'anything', shape: [1], datatype: 'INT32', data: [0] }] },
  // A model that speaks the OpenAI API takes a call; slowed down a little to show the stream.
  markov: {
    url: '/v1/chat/completions',
    body: { messages: [{ role: 'user', content: 'We hold these' }], stream: true, max_tokens: 60, token_delay_ms: 40 },
  },
};
const exampleFor = (model: string) => JSON.stringify(examples[model] ?? examples.echo, null, 2);
const pollMs = 500;

/** My requests: the list, a form to submit one, and the chosen request's result. */
export class RequestsPage extends LitElement {
  static override properties = {
    selected: { state: true },
    streamed: { state: true },
    error: { state: true },
    reloading: { state: true },
    model: { state: true },
    input: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .history-heading {
        display: flex;
        gap: 1rem;
        align-items: center;
      }
    `,
  ];
  declare selected: WorkRequestView | null;
  /** The chosen request's output as it comes (its events' chunks), while it runs. */
  declare streamed: string;
  private events: AbortController | null = null;
  /** What the last action (submit, show) could not do. */
  declare error: string | null;
  declare reloading: boolean;
  declare model: string;
  declare input: string;
  private polling: ReturnType<typeof setTimeout> | undefined;
  private readonly catalog = new Task(this, {
    task: async () => (await api.call<{ models: PublicModelView[] }>('GET', '/api/models')).models,
    args: () => [],
  });
  private readonly mine = new Task(this, {
    task: async () => (await api.call<{ requests: WorkRequestSummary[] }>('GET', '/api/requests?limit=50')).requests,
    args: () => [],
  });

  constructor() {
    super();
    this.selected = null;
    this.streamed = '';
    this.error = null;
    this.reloading = false;
    this.model = 'echo';
    this.input = exampleFor('echo');
  }

  override connectedCallback() {
    super.connectedCallback();
    // The request on show is in the URL (?request=…): a reload or a shared link shows it again.
    const shown = new URLSearchParams(location.search).get('request');
    if (shown) void this.show(shown);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.polling);
    this.events?.abort();
  }

  /**
   * Follows the request's events, so a streamed output shows token by token; polling still
   * tells the status and brings the result.
   */
  private follow(id: string) {
    this.events?.abort();
    this.streamed = '';
    const events = new AbortController();
    this.events = events;
    void followRequestEvents(
      id,
      {
        chunk: (text) => (this.streamed += text),
        restart: () => (this.streamed = ''),
      },
      events.signal,
    ).finally(() => {
      if (this.events === events) this.events = null;
    });
  }

  private async guard(work: () => Promise<void>) {
    this.error = null;
    try {
      await work();
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  /** The catalog, my requests and the request on show, fetched together. */
  async reload() {
    this.reloading = true;
    const selectedId = this.selected?.id;
    const selected = selectedId
      ? this.guard(async () => {
          this.selected = await api.call<WorkRequestView>('GET', `/api/requests/${selectedId}`);
        })
      : null;
    await Promise.all([this.catalog.run(), this.mine.run(), selected]);
    this.reloading = false;
  }

  /** The action's failure, else the first failed load. */
  private pageError(): string | null {
    const failed = [this.mine, this.catalog].find((task) => task.status === TaskStatus.ERROR);
    return this.error ?? (failed ? errorMessage(failed.error) : null);
  }

  private async submit(event: SubmitEvent) {
    event.preventDefault();
    let input: unknown;
    try {
      input = JSON.parse(this.input);
    } catch {
      this.error = 'The input is not valid JSON';
      return;
    }
    await this.guard(async () => {
      // As typed: the API says what is wrong with it.
      const created = await api.submit(this.model, null, { input: input as RequestInput });
      await this.show(created.id);
      await this.reload();
    });
  }

  private async show(id: string) {
    clearTimeout(this.polling);
    if (this.selected?.id !== id) {
      this.events?.abort();
      this.events = null;
    }
    const url = new URL(location.href);
    url.searchParams.set('request', id);
    history.replaceState(null, '', url);
    await this.guard(async () => {
      this.selected = await api.call<WorkRequestView>('GET', `/api/requests/${id}`);
      if (!isFinalStatus(this.selected.status)) {
        if (!this.events) this.follow(id);
        this.polling = setTimeout(() => void this.show(id).then(() => this.reload()), pollMs);
      }
    });
  }

  /** The owner stops a waiting or running request; the page shows how it ended. */
  private async cancel(id: string) {
    await this.guard(async () => {
      await api.call('POST', `/api/requests/${id}/cancel`);
      await this.show(id);
      await this.reload();
    });
  }

  private renderSelected() {
    const request = this.selected;
    if (!request) return '';
    const open = !isFinalStatus(request.status);
    return html`
      <section data-testid="request-detail">
        <h2>
          Request <code data-testid="request-id">${request.id}</code>:
          <span class="status-${request.status}" data-testid="request-status">${request.status}</span>
        </h2>
        ${
          open
            ? html`<button class="secondary" data-testid="cancel" @click=${() => this.cancel(request.id)}>
                Cancel
              </button>`
            : ''
        }
        ${request.error ? html`<p class="error">${request.error.code}: ${request.error.message}</p>` : ''}
        ${
          !request.result && this.streamed
            ? html`<p>Output so far:</p>
                <pre tabindex="0" data-testid="streamed-output">${this.streamed}</pre>`
            : ''
        }
        ${request.result ? html`<pre tabindex="0">${JSON.stringify(request.result, null, 2)}</pre>` : ''}
      </section>
    `;
  }

  override render() {
    return html`
      <h1>My requests</h1>
      <form @submit=${this.submit}>
        <label>
          Model
          <select
            name="model"
            @change=${(e: Event) => {
              this.model = (e.target as HTMLSelectElement).value;
              this.input = exampleFor(this.model);
            }}
          >
            ${(this.catalog.value ?? []).map((m) => html`<option value=${m.id} ?selected=${m.id === this.model}>${m.displayName}</option>`)}
          </select>
        </label>
        <label>
          ${
            this.catalog.value?.find((m) => m.id === this.model)?.protocol === 'openai'
              ? 'Input (an OpenAI call: url and body; stream: true shows the output as it comes)'
              : 'Input (Open Inference Protocol v2)'
          }
          <textarea
            name="input"
            .value=${this.input}
            @input=${(e: Event) => (this.input = (e.target as HTMLTextAreaElement).value)}
          ></textarea>
        </label>
        <button type="submit">Submit request</button>
      </form>
      ${this.pageError() ? html`<p class="error" role="alert" data-testid="page-error">${this.pageError()}</p>` : ''}
      ${this.renderSelected()}
      <div class="history-heading">
        <h2>History</h2>
        <button class="secondary" data-testid="reload" @click=${() => this.reload()} ?disabled=${this.reloading}>
          Reload
        </button>
      </div>
      ${this.renderHistory(this.mine.value)}
    `;
  }

  private renderHistory(requests: WorkRequestSummary[] | undefined) {
    if (requests === undefined) return this.mine.status === TaskStatus.ERROR ? '' : loadStates().pending();
    if (requests.length === 0) return html`<p data-testid="no-requests">No requests yet: submit one above.</p>`;
    return html`<table data-testid="request-list">
      <thead>
        <tr>
          <th>Request</th>
          <th>Model</th>
          <th>Status</th>
          <th>Submitted (UTC)</th>
        </tr>
      </thead>
      <tbody>
        ${requests.map(
          (r) =>
            html`<tr>
              <td>
                <a href="#" @click=${(e: Event) => (e.preventDefault(), this.show(r.id))}
                  ><code>${r.id.slice(0, 8)}</code></a
                >
              </td>
              <td>${r.model}</td>
              <td class="status-${r.status}">
                ${r.status}${
                  !isFinalStatus(r.status)
                    ? html` <button class="secondary" data-testid="cancel-row" @click=${() => this.cancel(r.id)}>
                        Cancel
                      </button>`
                    : ''
                }
              </td>
              <td>${r.createdAt.replace('T', ' ').slice(0, 19)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define('requests-page', RequestsPage);

declare global {
  interface HTMLElementTagNameMap {
    'requests-page': RequestsPage;
  }
}
