import { Task } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { PublicModelView } from '../../domain/model-catalog';
import type { RequestInput, WorkRequestDetail } from '../../domain/work-request';
import { api, errorMessage, requests } from '../podium-client';
import { loadStates } from '../load-states';
import {
  chatCall,
  fileTensor,
  openAiText,
  outputView,
  snippets,
  tensorFromText,
  type Tensor,
  type TensorSpec,
} from '../model-form';
import { followRequestEvents } from '../request-events';
import { isFinalStatus, laterStatus } from '../request-statuses';
import { sharedStyles } from '../styles';

/** The request as `GET /api/requests/:id` tells it, with its place in line while it waits. */
type Viewed = WorkRequestDetail;

/**
 * One model, for everyone (anonymous visitors too: their session is made on first use and kept
 * in the browser): a form from the model's declared inputs (a message for an OpenAI model), or
 * raw JSON; Submit; the request's live status and its times; Cancel; its output streamed as it
 * comes, then shown by datatype (text, tables, images); and the same request as curl, Python and
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
    files: { state: true },
    request: { state: true },
    streamed: { state: true },
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
      /* A model's answer is prose: it wraps rather than scrolls. */
      pre.answer {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .output-image {
        max-width: 100%;
        height: auto;
      }
      .times {
        color: #555;
        font-size: 0.9rem;
      }
    `,
  ];
  declare modelId: string;
  declare texts: Record<string, string>;
  declare raw: string;
  declare advanced: boolean;
  declare problems: string[];
  declare error: string | null;
  /** Inputs given as a file, by name: they go up as uploads (docs/payloads.md) when submitted. */
  declare files: Record<string, File>;
  declare request: Viewed | null;
  /** The output so far, while it streams. */
  declare streamed: string;
  declare snippet: 'curl' | 'python' | 'javascript';
  private following = 0;
  private streaming: AbortController | null = null;

  private readonly model = new Task(this, {
    task: async ([id]: [string]) => {
      const { models } = await api.call<{ models: PublicModelView[] }>('GET', '/api/models');
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
    this.files = {};
    this.request = null;
    this.streamed = '';
    this.snippet = 'curl';
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.following++; // stops the long poll's loop
    this.streaming?.abort();
  }

  /** The inference request the form (or the raw JSON) makes, or what is wrong with it. */
  /**
   * `uploads`: the ids of the files' uploads, once made; before that (for the snippets) a
   * `$PAYLOAD_<name>` stands in for each.
   */
  private built(
    model: PublicModelView,
    uploads: Record<string, string> = {},
  ): { input: unknown } | { problems: string[] } {
    if (this.advanced || !hasForm(model)) {
      try {
        return { input: JSON.parse(this.raw || '{"inputs": []}') };
      } catch {
        return { problems: ['The raw input is not valid JSON'] };
      }
    }
    if (model.protocol === 'openai') {
      return chatCall(this.texts.prompt ?? '', this.texts.maxTokens ?? '', model.maxTokens);
    }
    const tensors: Tensor[] = [];
    const problems: string[] = [];
    for (const spec of model.inputs as TensorSpec[]) {
      const file = this.files[spec.name];
      if (file) {
        const layout = fileTensor(spec, file.size);
        if ('problem' in layout) problems.push(layout.problem);
        else {
          const payload = uploads[spec.name] ?? `$PAYLOAD_${spec.name}`;
          tensors.push({
            name: spec.name,
            datatype: spec.datatype,
            shape: layout.shape,
            data: [],
            parameters: { payload },
          });
        }
        continue;
      }
      const made = tensorFromText(spec, this.texts[spec.name] ?? '');
      if ('problem' in made) problems.push(made.problem);
      else tensors.push(made.tensor);
    }
    // A tensor from a file has no data: its upload holds its bytes.
    const inputs = tensors.map(({ data, ...tensor }) => (tensor.parameters?.payload ? tensor : { ...tensor, data }));
    return problems.length ? { problems } : { input: { inputs } };
  }

  /** Each chosen file up as an upload, its layout's prefix (a BYTES length) first; their ids by input. */
  private async uploadFiles(model: PublicModelView): Promise<Record<string, string>> {
    const uploads: Record<string, string> = {};
    for (const spec of model.inputs as TensorSpec[]) {
      const file = this.files[spec.name];
      if (!file || this.advanced) continue;
      const layout = fileTensor(spec, file.size);
      if ('problem' in layout) continue; // built() has said so
      uploads[spec.name] = (await requests.upload(new Blob([layout.prefix as BlobPart, file]))).id;
    }
    return uploads;
  }

  private async submit(event: SubmitEvent, model: PublicModelView) {
    event.preventDefault();
    this.error = null;
    const checked = this.built(model);
    this.problems = 'problems' in checked ? checked.problems : [];
    if (!('input' in checked)) return;
    try {
      const built = this.built(model, await this.uploadFiles(model));
      if (!('input' in built)) return;
      const { input } = built;
      // Built loosely from the form (or typed raw): the API says what is wrong with it.
      const created = await requests.submit(model.id, null, { input: input as RequestInput });
      this.streaming?.abort();
      this.streamed = '';
      this.stream(created.id);
      this.request = (await requests.get(created.id)).view as Viewed;
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
        // While it waits, a short poll keeps its place in line up to date; then one until it ends.
        const wait = this.request.status === 'REQUESTED' ? 2 : 20;
        this.request = laterStatus(this.request, (await requests.get(id, { waitSeconds: wait })).view as Viewed);
      } catch (error) {
        this.error = errorMessage(error);
        return;
      }
    }
  }

  /**
   * The request's events: its status the moment it changes, and its output token by token when
   * the model streams. The long poll beside them brings the place in line and the result.
   */
  private stream(id: string) {
    const streaming = new AbortController();
    this.streaming = streaming;
    void followRequestEvents(
      id,
      {
        status: (status) => {
          if (this.request?.id === id && !isFinalStatus(this.request.status)) {
            this.request = { ...this.request, status: status as Viewed['status'] };
          }
        },
        chunk: (text) => (this.streamed += text),
        restart: () => (this.streamed = ''),
      },
      streaming.signal,
    );
  }

  /** The long poll that submit started brings the CANCELLED end. */
  private async cancel(id: string) {
    try {
      await requests.call('POST', `/api/requests/${id}/cancel`);
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
        ${
          this.files[spec.name]
            ? html`<span data-testid="file-chosen-${spec.name}"
                >${this.files[spec.name]!.name} (${this.files[spec.name]!.size} bytes), sent as an upload</span
              >`
            : html`<textarea
                name=${spec.name}
                data-testid="input-${spec.name}"
                .value=${this.texts[spec.name] ?? ''}
                @input=${(e: Event) => (this.texts = { ...this.texts, [spec.name]: (e.target as HTMLTextAreaElement).value })}
              ></textarea>`
        }
      </label>
      <label class="file">
        <small
          >…or ${spec.name} from a file
          (${spec.datatype === 'BYTES' ? 'the whole file as one element' : `raw little-endian ${spec.datatype} values`})</small
        >
        <input type="file" data-testid="file-${spec.name}" @change=${(e: Event) => this.chooseFile(spec.name, e)} />
      </label>`;
  }

  private chooseFile(name: string, event: Event) {
    const file = (event.target as HTMLInputElement).files?.[0];
    const { [name]: _dropped, ...others } = this.files;
    this.files = file ? { ...others, [name]: file } : others;
  }

  private textField(name: 'prompt' | 'maxTokens', label: string, type: 'textarea' | 'number') {
    const value = this.texts[name] ?? '';
    const changed = (e: Event) => (this.texts = { ...this.texts, [name]: (e.target as HTMLInputElement).value });
    return html`<label>
      ${label}
      ${
        type === 'textarea'
          ? html`<textarea name=${name} data-testid="input-${name}" .value=${value} @input=${changed}></textarea>`
          : html`<input
              type="number"
              min="1"
              name=${name}
              data-testid="input-${name}"
              .value=${value}
              @input=${changed}
            />`
      }
    </label>`;
  }

  private renderFields(model: PublicModelView) {
    if (model.protocol === 'openai') {
      const limit = model.maxTokens === null ? 'empty: the model’s own limit' : `at most ${model.maxTokens}`;
      return html`${this.textField('prompt', 'Message', 'textarea')}
      ${this.textField('maxTokens', `Most tokens in the answer (${limit})`, 'number')}`;
    }
    return (model.inputs as TensorSpec[]).map((spec) => this.renderField(spec));
  }

  private renderOutputs(request: WorkRequestDetail) {
    const text = openAiText(request.result);
    if (text !== null) return html`<pre tabindex="0" class="answer" data-testid="output-text">${text}</pre>`;
    const outputs = (request.result as { outputs?: Tensor[] } | null)?.outputs;
    if (!outputs) {
      if (this.streamed)
        return html`<pre tabindex="0" class="answer" data-testid="streamed-output">${this.streamed}</pre>`;
      return request.result ? html`<pre tabindex="0">${JSON.stringify(request.result, null, 2)}</pre>` : '';
    }
    return outputs.map((tensor) => {
      const view = outputView(tensor);
      return html`<h3>${tensor.name} <small>${tensor.datatype} [${tensor.shape.join(', ')}]</small></h3>
        ${
          view.kind === 'images'
            ? html`<div data-testid="output-${tensor.name}">
                ${view.sources.map(
                  (source, i) =>
                    html`<img
                      class="output-image"
                      src=${source}
                      alt="${tensor.name}, image ${i + 1} of ${view.sources.length}"
                    />`,
                )}
              </div>`
            : view.kind === 'text'
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
      ${this.renderTimes(request)}
      ${open ? html`<button class="secondary" data-testid="model-cancel" @click=${() => this.cancel(request.id)}>Cancel</button>` : ''}
      ${
        request.error
          ? html`<p class="error" data-testid="model-request-error">${request.error.code}: ${request.error.message}</p>`
          : ''
      }
      ${this.renderOutputs(request)}
    </section>`;
  }

  /** The request's story so far: when it was made, its place in line, when it started and ended. */
  private renderTimes(request: Viewed) {
    const at = (iso: string) => new Date(iso).toLocaleTimeString();
    const seconds = (from: string, to: string) => ((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1);
    const steps = [`requested ${at(request.createdAt)}`];
    if (request.queue && request.status === 'REQUESTED') {
      steps.push(
        `number ${request.queue.position} in line` +
          (request.queue.estimatedStartAt ? `, expected to start about ${at(request.queue.estimatedStartAt)}` : ''),
      );
    }
    if (request.startedAt)
      steps.push(`started ${at(request.startedAt)} (waited ${seconds(request.createdAt, request.startedAt)} s)`);
    if (request.finishedAt) {
      steps.push(
        `ended ${at(request.finishedAt)}` +
          (request.startedAt ? ` (ran ${seconds(request.startedAt, request.finishedAt)} s)` : ''),
      );
    }
    if (request.attempt > 1) steps.push(`attempt ${request.attempt}`);
    if (request.deadline) steps.push(`deadline ${at(request.deadline)}`);
    return html`<p class="times" data-testid="model-request-times">${steps.join(' · ')}</p>`;
  }

  private renderSnippets(model: PublicModelView) {
    const built = this.built(model);
    const files = this.advanced ? [] : Object.keys(this.files);
    const all = snippets(location.origin, model.id, 'input' in built ? built.input : {}, files);
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
        const form = !this.advanced && hasForm(model);
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
                ? this.renderFields(model)
                : html`<label
                    >${model.protocol === 'openai' ? 'Call (an OpenAI endpoint and its body)' : 'Inference request (Open Inference Protocol v2)'}
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

/** A model the page can make a form for: an OpenAI model (a message), or one that declares its inputs. */
const hasForm = (model: PublicModelView) => model.protocol === 'openai' || model.inputs.length > 0;

customElements.define('model-page', ModelPage);

declare global {
  interface HTMLElementTagNameMap {
    'model-page': ModelPage;
  }
}
