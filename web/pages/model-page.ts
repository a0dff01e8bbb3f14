import { Task } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { PublicModelView } from '../../domain/model-catalog';
import type { WorkRequestView } from '../../domain/work-request';
import { errorMessage, getJson } from '../api-client';
import { loadStates } from '../load-states';
import { outputView, snippets, tensorFromText, type Tensor, type TensorSpec } from '../model-form';
import { requestCall } from '../request-calls';
import { isFinalStatus } from '../request-statuses';
import { sharedStyles } from '../styles';

/**
 * One model, for everyone (anonymous visitors too: their session is made on first use and kept
 * in the browser): a form from the model's declared inputs (or raw JSON), Submit, the request's
 * live status, Cancel, the outputs by datatype, and the same request as curl, Python and
 * JavaScript.
 */
export class ModelPage extends LitElement {
  static override properties = {
    modelId: { type: String },
    texts: { state: true },
    raw: { state: true },
    advanced: { state: true },
    problems: { state: true },
    error: { state: true },
    request: { state: true },
    snippet: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .tabs button[aria-pressed='true'] {
        font-weight: 700;
      }
      textarea {
        width: 100%;
        min-height: 4rem;
        font-family: ui-monospace, monospace;
      }
    `,
  ];
  declare modelId: string;
  declare texts: Record<string, string>;
  declare raw: string;
  declare advanced: boolean;
  declare problems: string[];
  declare error: string | null;
  declare request: WorkRequestView | null;
  declare snippet: 'curl' | 'python' | 'javascript';
  private following = 0;

  private readonly model = new Task(this, {
    task: async ([id]: [string]) => {
      const { models } = await getJson<{ models: PublicModelView[] }>('/api/models');
      return models.find((m) => m.id === id) ?? null;
    },
    args: () => [this.modelId] as [string],
  });

  constructor() {
    super();
    this.modelId = '';
    this.texts = {};
    this.raw = '';
    this.advanced = false;
    this.problems = [];
    this.error = null;
    this.request = null;
    this.snippet = 'curl';
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.following++; // stops the long poll's loop
  }

  /** The inference request the form (or the raw JSON) makes, or what is wrong with it. */
  private built(model: PublicModelView): { input: unknown } | { problems: string[] } {
    if (this.advanced || model.inputs.length === 0) {
      try {
        return { input: JSON.parse(this.raw || '{"inputs": []}') };
      } catch {
        return { problems: ['The raw input is not valid JSON'] };
      }
    }
    const tensors: Tensor[] = [];
    const problems: string[] = [];
    for (const spec of model.inputs as TensorSpec[]) {
      const made = tensorFromText(spec, this.texts[spec.name] ?? '');
      if ('problem' in made) problems.push(made.problem);
      else tensors.push(made.tensor);
    }
    return problems.length ? { problems } : { input: { inputs: tensors } };
  }

  private async submit(event: SubmitEvent, model: PublicModelView) {
    event.preventDefault();
    this.error = null;
    const built = this.built(model);
    this.problems = 'problems' in built ? built.problems : [];
    if (!('input' in built)) return;
    const { input } = built;
    try {
      const created = await requestCall<{ id: string }>('POST', '/api/requests', { model: model.id, input });
      this.request = await requestCall<WorkRequestView>('GET', `/api/requests/${created.id}`);
      void this.follow(created.id);
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  /** Long polls the request until it ends (or another one is followed). */
  private async follow(id: string) {
    const mine = ++this.following;
    while (mine === this.following && this.request && !isFinalStatus(this.request.status)) {
      try {
        this.request = await requestCall<WorkRequestView>('GET', `/api/requests/${id}?wait=20`);
      } catch (error) {
        this.error = errorMessage(error);
        return;
      }
    }
  }

  private async cancel(id: string) {
    try {
      await requestCall('POST', `/api/requests/${id}/cancel`);
      if (this.following === 0) void this.follow(id);
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  private renderField(spec: TensorSpec) {
    const hint =
      spec.datatype === 'BYTES'
        ? 'text, one element per line'
        : spec.datatype === 'BOOL'
          ? 'true or false, separated by spaces'
          : 'numbers separated by commas or spaces, or a JSON array';
    return html`<label>
      ${spec.name} <small>(${spec.datatype}, shape [${spec.shape.join(', ')}]: ${hint})</small>
      <textarea
        name=${spec.name}
        data-testid="input-${spec.name}"
        .value=${this.texts[spec.name] ?? ''}
        @input=${(e: Event) => (this.texts = { ...this.texts, [spec.name]: (e.target as HTMLTextAreaElement).value })}
      ></textarea>
    </label>`;
  }

  private renderOutputs(request: WorkRequestView) {
    const outputs = (request.result as { outputs?: Tensor[] } | null)?.outputs;
    if (!outputs) return request.result ? html`<pre tabindex="0">${JSON.stringify(request.result, null, 2)}</pre>` : '';
    return outputs.map((tensor) => {
      const view = outputView(tensor);
      return html`<h3>${tensor.name} <small>${tensor.datatype} [${tensor.shape.join(', ')}]</small></h3>
        ${
          view.kind === 'text'
            ? html`<pre tabindex="0" data-testid="output-${tensor.name}">${view.lines.join('\n')}</pre>`
            : view.kind === 'table'
              ? html`<table tabindex="0" data-testid="output-${tensor.name}">
                  ${view.rows.map(
                    (row) =>
                      html`<tr>
                        ${row.map((cell) => html`<td class="number">${String(cell)}</td>`)}
                      </tr>`,
                  )}
                </table>`
              : html`<pre tabindex="0" data-testid="output-${tensor.name}">${JSON.stringify(tensor.data)}</pre>`
        }`;
    });
  }

  private renderRequest() {
    const request = this.request;
    if (!request) return '';
    const open = !isFinalStatus(request.status);
    return html`<section data-testid="model-request">
      <h2>
        Request <code>${request.id}</code>:
        <span class="status-${request.status}" data-testid="model-request-status">${request.status}</span>
      </h2>
      ${open ? html`<button class="secondary" data-testid="model-cancel" @click=${() => this.cancel(request.id)}>Cancel</button>` : ''}
      ${request.error ? html`<p class="error">${request.error.code}: ${request.error.message}</p>` : ''}
      ${this.renderOutputs(request)}
    </section>`;
  }

  private renderSnippets(model: PublicModelView) {
    const built = this.built(model);
    const all = snippets(location.origin, model.id, 'input' in built ? built.input : {});
    return html`<h2>From a terminal or a program</h2>
      <div class="tabs" role="group" aria-label="Language">
        ${(['curl', 'python', 'javascript'] as const).map(
          (kind) =>
            html`<button class="secondary" aria-pressed=${this.snippet === kind} @click=${() => (this.snippet = kind)}>
              ${kind === 'curl' ? 'curl' : kind === 'python' ? 'Python' : 'JavaScript'}
            </button>`,
        )}
        <button class="secondary" @click=${() => navigator.clipboard.writeText(all[this.snippet])}>Copy</button>
      </div>
      <pre tabindex="0" data-testid="snippet">${all[this.snippet]}</pre>`;
  }

  override render() {
    return this.model.render({
      ...loadStates({ failed: 'Could not load the model: ' }),
      complete: (model) => {
        if (!model) {
          return html`<h1>No such model</h1>
            <p data-testid="no-such-model">There is no model "${this.modelId}". <a href="/">See the models</a>.</p>`;
        }
        const form = !this.advanced && model.inputs.length > 0;
        return html`<h1>${model.displayName} <code>${model.id}</code></h1>
          <p>${model.description}</p>
          <form @submit=${(e: SubmitEvent) => this.submit(e, model)}>
            <div class="tabs" role="group" aria-label="Input">
              <button type="button" class="secondary" aria-pressed=${form} @click=${() => (this.advanced = false)}>
                Form
              </button>
              <button
                type="button"
                class="secondary"
                data-testid="advanced"
                aria-pressed=${!form}
                @click=${() => {
                  const built = this.built(model);
                  this.raw ||= JSON.stringify('input' in built ? built.input : { inputs: [] }, null, 2);
                  this.problems = [];
                  this.advanced = true;
                }}
              >
                Raw JSON (advanced)
              </button>
            </div>
            ${
              form
                ? (model.inputs as TensorSpec[]).map((spec) => this.renderField(spec))
                : html`<label
                    >Inference request (Open Inference Protocol v2)
                    <textarea
                      data-testid="raw-input"
                      .value=${this.raw}
                      @input=${(e: Event) => (this.raw = (e.target as HTMLTextAreaElement).value)}
                    ></textarea>
                  </label>`
            }
            ${this.problems.map((problem) => html`<p class="error" role="alert">${problem}</p>`)}
            ${this.error ? html`<p class="error" role="alert" data-testid="model-error">${this.error}</p>` : ''}
            <button type="submit" data-testid="model-submit">Submit</button>
          </form>
          ${this.renderRequest()} ${this.renderSnippets(model)}`;
      },
    });
  }
}

customElements.define('model-page', ModelPage);

declare global {
  interface HTMLElementTagNameMap {
    'model-page': ModelPage;
  }
}
