import { Task } from '@lit/task';
import { html, LitElement } from 'lit';
import type { PublicModelView } from '../../domain/model-catalog';
import { api } from '../podium-client';
import { loadStates } from '../load-states';
import { sharedStyles } from '../styles';

/** For visitors who are not signed in: the models, and how to call them with curl. */
export class CatalogPage extends LitElement {
  static override styles = sharedStyles;
  private readonly models = new Task(this, {
    task: async () => (await api.call<{ models: PublicModelView[] }>('GET', '/api/models')).models,
    args: () => [],
  });

  override render() {
    return html`
      <h1>Requests for machine-learning models</h1>
      <p>Each request is a durable workflow: Podium starts the model, sends it your input and keeps the result.</p>
      <p>
        Pick a model to try it here, no account needed; each model's page also shows the same request with curl, Python
        and JavaScript. <a href="/signin">Sign in</a> or <a href="/signup">sign up</a> to keep your requests together.
      </p>
      <h2>Models</h2>
      ${this.models.render({
        ...loadStates({ failed: 'Could not load the models: ' }),
        complete: (models) =>
          html`<table>
            ${models.map(
              (m) =>
                html`<tr>
                  <td>
                    <a href="/models/${encodeURIComponent(m.id)}" data-testid="model-link"
                      ><strong>${m.displayName}</strong></a
                    >
                    <code>${m.id}</code>
                  </td>
                  <td>${m.description}</td>
                </tr>`,
            )}
          </table>`,
      })}
    `;
  }
}
customElements.define('catalog-page', CatalogPage);

declare global {
  interface HTMLElementTagNameMap {
    'catalog-page': CatalogPage;
  }
}
