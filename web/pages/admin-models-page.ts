import { Task } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { ModelSpec } from '../../domain/model-catalog';
import { api, errorMessage, PodiumError } from '../podium-client';
import { loadStates } from '../load-states';
import { sharedStyles } from '../styles';

type FieldIssue = { path: (string | number)[]; message: string };
/** What the form edits: a model's id and its settings as JSON, the shape of a model file. */
type Draft = { mode: 'create' | 'edit'; id: string; json: string };

const template = {
  displayName: 'My model',
  runtime: 'podium-node',
  localCommand: ['node', 'models/echo/server.ts'],
  containerImage: 'registry.example.com/podium-model-echo:0.2.0',
  keepWarmSeconds: 60,
  maxInstances: 1,
};

/**
 * The model catalog (ADMIN): every model with how it runs and scales; create, edit (the settings
 * as JSON, as in a model file for `npm run podium -- models apply`) and delete with confirmation.
 * The server checks everything; its per-field errors show under the form.
 */
export class AdminModelsPage extends LitElement {
  static override properties = {
    draft: { state: true },
    issues: { state: true },
    error: { state: true },
    notice: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      form {
        max-width: 44rem;
      }
      textarea {
        min-height: 22rem;
      }
      .buttons {
        display: flex;
        gap: 0.5rem;
      }
      ul.issues {
        margin: 0;
        padding-left: 1.2rem;
      }
    `,
  ];
  declare draft: Draft | null;
  declare issues: FieldIssue[];
  declare error: string | null;
  declare notice: string | null;
  private readonly models = new Task(this, {
    task: async () => (await api.call<{ models: ModelSpec[] }>('GET', '/api/admin/models')).models,
    args: () => [],
  });

  constructor() {
    super();
    this.draft = null;
    this.issues = [];
    this.error = null;
    this.notice = null;
  }

  private startCreate() {
    this.draft = { mode: 'create', id: '', json: JSON.stringify(template, null, 2) };
    this.issues = [];
    this.error = null;
    this.notice = null;
  }

  private async startEdit(id: string) {
    this.issues = [];
    this.error = null;
    this.notice = null;
    try {
      const { settings } = await api.call<{ settings: object }>('GET', `/api/admin/models/${encodeURIComponent(id)}`);
      this.draft = { mode: 'edit', id, json: JSON.stringify(settings, null, 2) };
    } catch (error) {
      this.error = errorMessage(error);
    }
  }

  private async save(event: Event) {
    event.preventDefault();
    const draft = this.draft!;
    const form = event.target as HTMLFormElement;
    const id = draft.mode === 'create' ? (form.elements.namedItem('id') as HTMLInputElement).value.trim() : draft.id;
    const json = (form.elements.namedItem('settings') as HTMLTextAreaElement).value;
    this.draft = { ...draft, id, json };
    let settings: unknown;
    try {
      settings = JSON.parse(json);
    } catch (error) {
      this.issues = [{ path: [], message: `not JSON: ${(error as Error).message}` }];
      return;
    }
    try {
      await api.call(draft.mode === 'create' ? 'POST' : 'PUT', `/api/admin/models/${encodeURIComponent(id)}`, {
        body: settings,
      });
      this.notice = `${draft.mode === 'create' ? 'Registered' : 'Saved'} ${id}`;
      this.draft = null;
      this.issues = [];
      this.error = null;
      void this.models.run();
    } catch (error) {
      const issues =
        error instanceof PodiumError ? (error.details as { issues?: FieldIssue[] } | undefined)?.issues : undefined;
      this.issues = issues ?? [];
      this.error = issues ? null : errorMessage(error, { withCode: true });
    }
  }

  private async deleteModel(id: string) {
    if (!confirm(`Delete ${id}? New requests for it are refused at once; those it has finish first.`)) return;
    try {
      const { draining } = await api.call<{ draining: { waiting: number; processing: number } }>(
        'DELETE',
        `/api/admin/models/${encodeURIComponent(id)}`,
      );
      this.notice = `Deleted ${id}; ${draining.waiting} waiting and ${draining.processing} running requests finish`;
      this.error = null;
      void this.models.run();
    } catch (error) {
      this.error = errorMessage(error, { withCode: true });
    }
  }

  private renderForm(draft: Draft) {
    return html`<form @submit=${this.save} data-testid="model-form">
      <h2>${draft.mode === 'create' ? 'New model' : `Edit ${draft.id}`}</h2>
      ${
        draft.mode === 'create'
          ? html`<label
              >Id
              <input
                name="id"
                data-testid="model-id"
                required
                .value=${draft.id}
                placeholder="lower-case letters, digits, dashes"
            /></label>`
          : ''
      }
      <label
        >Settings (JSON; every field and its default: docs/models.md)
        <textarea name="settings" data-testid="model-settings" spellcheck="false" .value=${draft.json}></textarea>
      </label>
      ${
        this.issues.length > 0
          ? html`<ul class="issues field-error" role="alert" data-testid="model-issues">
              ${this.issues.map((issue) => html`<li><code>${issue.path.join('.') || '(the model)'}</code>: ${issue.message}</li>`)}
            </ul>`
          : ''
      }
      <div class="buttons">
        <button type="submit" data-testid="save-model">${draft.mode === 'create' ? 'Register' : 'Save'}</button>
        <button type="button" class="secondary" @click=${() => (this.draft = null)}>Cancel</button>
      </div>
    </form>`;
  }

  override render() {
    return html`
      <h1>Models</h1>
      ${this.notice ? html`<p class="notice" data-testid="notice">${this.notice}</p>` : ''}
      ${this.error ? html`<p class="error" role="alert" data-testid="error">${this.error}</p>` : ''}
      ${
        this.draft
          ? this.renderForm(this.draft)
          : html`<p><button data-testid="new-model" @click=${this.startCreate}>New model</button></p>`
      }
      ${this.models.render({
        ...loadStates(),
        complete: (models) =>
          html`<table data-testid="models">
            <thead>
              <tr>
                <th>Id</th>
                <th>Name</th>
                <th>Runtime</th>
                <th>Served as</th>
                <th class="number">Instances</th>
                <th class="number">Keep warm</th>
                <th class="number">Concurrency</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${models.map(
                (m) =>
                  html`<tr data-model=${m.id}>
                    <td><code>${m.id}</code></td>
                    <td>${m.displayName}</td>
                    <td>${m.runtime}</td>
                    <td>${m.servedModelName}</td>
                    <td class="number">${m.minInstances}–${m.maxInstances}</td>
                    <td class="number">${m.keepWarmSeconds} s</td>
                    <td class="number">${m.maxConcurrency}</td>
                    <td class="actions">
                      <button class="secondary" data-testid="edit-model" @click=${() => this.startEdit(m.id)}>
                        Edit
                      </button>
                      <button class="secondary" data-testid="delete-model" @click=${() => this.deleteModel(m.id)}>
                        Delete
                      </button>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`,
      })}
      <p class="note">
        From a terminal: <code>npm run podium -- models apply -f model.yaml</code>, <code>models list</code>,
        <code>models delete &lt;id&gt;</code>.
      </p>
    `;
  }
}
customElements.define('admin-models-page', AdminModelsPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-models-page': AdminModelsPage;
  }
}
