import { Task } from '@lit/task';
import { html, LitElement } from 'lit';
import type { UserView } from '../../domain/accounts';
import { apiCall } from '../api-client';
import { loadStates } from '../load-states';
import { sharedStyles } from '../styles';

type AdminUser = UserView & { createdAt: string };

/** Accounts and their permissions (ADMIN; the server refuses everyone else). */
export class AdminUsersPage extends LitElement {
  static override styles = sharedStyles;
  private readonly users = new Task(this, {
    task: async () => (await apiCall<{ users: AdminUser[] }>('GET', '/api/admin/users?limit=100')).users,
    args: () => [],
  });

  override render() {
    return html`
      <h1>Users</h1>
      ${this.users.render({
        ...loadStates(),
        complete: (users) => html`<table>
            <thead><tr><th>Username</th><th>Email</th><th>Permissions</th><th>Since (UTC)</th></tr></thead>
            <tbody>
              ${users.map(
                (u) => html`<tr><td>${u.username}</td><td>${u.email}</td><td>${u.permissions.join(', ') || '—'}</td>
                  <td>${u.createdAt.slice(0, 10)}</td></tr>`,
              )}
            </tbody>
          </table>`,
      })}
      <p>Grant ADMIN or MODEL_ADMIN (the model catalog) from a terminal: <code>npm run podium -- users grant &lt;username&gt; ADMIN</code></p>
    `;
  }
}
customElements.define('admin-users-page', AdminUsersPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-users-page': AdminUsersPage;
  }
}
