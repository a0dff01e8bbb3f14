import { html, LitElement } from 'lit';
import type { UserView } from '../../domain/accounts';
import { apiCall, errorMessage } from '../api-client';
import { sharedStyles } from '../styles';

type AdminUser = UserView & { createdAt: string };

/** Accounts and their permissions (ADMIN; the server refuses everyone else). */
export class AdminUsersPage extends LitElement {
  static override properties = { users: { state: true }, error: { state: true } };
  static override styles = sharedStyles;
  declare users: AdminUser[] | null;
  declare error: string | null;

  constructor() {
    super();
    this.users = null;
    this.error = null;
  }

  override connectedCallback() {
    super.connectedCallback();
    apiCall<{ users: AdminUser[] }>('GET', '/api/admin/users?limit=100').then(
      (body) => (this.users = body.users),
      (error) => (this.error = errorMessage(error)),
    );
  }

  override render() {
    return html`
      <h1>Users</h1>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      ${this.users === null && !this.error ? html`<p>Loading…</p>` : ''}
      ${this.users
        ? html`<table>
            <thead><tr><th>Username</th><th>Email</th><th>Permissions</th><th>Since (UTC)</th></tr></thead>
            <tbody>
              ${this.users.map(
                (u) => html`<tr><td>${u.username}</td><td>${u.email}</td><td>${u.permissions.join(', ') || '—'}</td>
                  <td>${u.createdAt.slice(0, 10)}</td></tr>`,
              )}
            </tbody>
          </table>`
        : ''}
      <p>Grant ADMIN from a terminal: <code>npm run podium -- users grant &lt;username&gt; ADMIN</code></p>
    `;
  }
}
customElements.define('admin-users-page', AdminUsersPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-users-page': AdminUsersPage;
  }
}
