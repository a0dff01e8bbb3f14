import { css, html, LitElement } from 'lit';
import { getJson, type CatalogModel } from '../api-client';

/** The placeholder home page: the model catalog and how to call it. Sign-in comes next. */
export class PodiumApp extends LitElement {
  static override properties = {
    models: { state: true },
    error: { state: true },
  };

  declare models: CatalogModel[] | null;
  declare error: string | null;

  static override styles = css`
    :host { display: block; max-width: 56rem; margin: 0 auto; padding: 2rem 1rem; }
    h1 { margin: 0 0 0.25rem; }
    .lead { color: #4a5563; margin: 0 0 2rem; }
    ul { list-style: none; padding: 0; display: grid; gap: 0.75rem; }
    li { background: white; border: 1px solid #dde1e6; border-radius: 8px; padding: 0.75rem 1rem; }
    code, pre { font-family: ui-monospace, monospace; font-size: 0.85rem; }
    pre { background: #1d232b; color: #e6edf3; padding: 1rem; border-radius: 8px; overflow-x: auto; }
    .error { color: #b42318; }
  `;

  constructor() {
    super();
    this.models = null;
    this.error = null;
  }

  override connectedCallback() {
    super.connectedCallback();
    getJson<{ models: CatalogModel[] }>('/api/models').then(
      (body) => (this.models = body.models),
      (error: Error) => (this.error = error.message),
    );
  }

  override render() {
    return html`
      <h1>Podium</h1>
      <p class="lead">Requests for machine-learning models, each one a durable Temporal workflow.</p>
      <h2>Models</h2>
      ${this.error ? html`<p class="error" role="alert">Could not load the models: ${this.error}</p>` : ''}
      ${this.models === null && !this.error ? html`<p>Loading…</p>` : ''}
      <ul>
        ${(this.models ?? []).map(
          (model) => html`<li><strong>${model.displayName}</strong> <code>${model.id}</code><br />${model.description}</li>`,
        )}
      </ul>
      <h2>Try it</h2>
      <pre>TOKEN=$(curl -s -X POST ${location.origin}/api/sessions/anonymous | jq -r .token)
curl -s -X POST ${location.origin}/api/requests -H "Authorization: Bearer $TOKEN" \\
  -H 'Content-Type: application/json' \\
  -d '{"model":"echo","input":{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}}'</pre>
    `;
  }
}

customElements.define('podium-app', PodiumApp);
