import { Task } from '@lit/task';
import { css, html, LitElement } from 'lit';
import type { UserView } from '../../domain/accounts';
import { api, errorMessage } from '../podium-client';
import { loadStates } from '../load-states';
import { session } from '../session-store';
import { sharedStyles } from '../styles';

type AdminUser = UserView & { createdAt: string; disabledAt: string | null };

/**
 * Accounts and their permissions (ADMIN; the server refuses everyone else): end a user's
 * sessions, disable or enable an account, each with a reason the audit log keeps.
 */
export class AdminUsersPage extends LitElement {
  static override properties = { error: { state: true }, notice: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      td.actions {
        white-space: nowrap;
      }
    `,
  ];
  /** What the last action could not do. */
  declare error: string | null;
  declare notice: string | null;
  private readonly users = new Task(this, {
    task: async () => (await api.call<{ users: AdminUser[] }>('GET', '/api/admin/users?limit=100')).users,
    args: () => [],
  });

  constructor() {
    super();
    this.error = null;
    this.notice = null;
  }

  /** Asks for the reason, calls the action, and says what came of it. */
  private async act(
    user: AdminUser,
    question: string,
    path: string,
    said: (answer: { endedSessions?: number }) => string,
  ) {
    const reason = prompt(`${question} Give a reason (it goes into the audit log):`);
    if (!reason?.trim()) return;
    try {
      const answer = await api.call<{ endedSessions?: number }>('POST', `/api/admin/users/${user.id}/${path}`, {
        body: {
          reason,
        },
      });
      this.notice = said(answer);
      this.error = null;
      await this.users.run();
    } catch (error) {
      this.notice = null;
      this.error = errorMessage(error, { withCode: true });
    }
  }

  private actions(user: AdminUser) {
    const sessions = (answer: { endedSessions?: number }) => `${answer.endedSessions ?? 0} session(s) ended`;
    const endSessions = () =>
      this.act(
        user,
        `End every session of ${user.username}?`,
        'sessions/end',
        (a) => `${user.username}: ${sessions(a)}.`,
      );
    const disable = () =>
      this.act(
        user,
        `Disable ${user.username}? They cannot sign in until enabled, and their sessions end.`,
        'disable',
        (a) => `${user.username} disabled; ${sessions(a)}.`,
      );
    const enable = () => this.act(user, `Enable ${user.username} again?`, 'enable', () => `${user.username} enabled.`);
    const self = session.state.status === 'signed-in' && session.state.user.id === user.id;
    return html`<td class="actions">
      <button class="secondary" data-testid="end-sessions" @click=${endSessions}>End sessions…</button>
      ${
        user.disabledAt
          ? html`<button class="secondary" data-testid="enable" @click=${enable}>Enable…</button>`
          : html`<button
              class="secondary"
              data-testid="disable"
              ?disabled=${self}
              title=${self ? 'You cannot disable your own account' : ''}
              @click=${disable}
            >
              Disable…
            </button>`
      }
    </td>`;
  }

  override render() {
    return html`
      <h1>Users</h1>
      ${this.notice ? html`<p class="notice" role="status" data-testid="notice">${this.notice}</p>` : ''}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      ${this.users.render({
        ...loadStates(),
        complete: (users) =>
          html`<table>
            <thead>
              <tr>
                <th>Username</th>
                <th>Email</th>
                <th>Permissions</th>
                <th>Since (UTC)</th>
                <th>Account</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${users.map(
                (u) =>
                  html`<tr data-user=${u.username}>
                    <td>${u.username}</td>
                    <td>${u.email}</td>
                    <td>${u.permissions.join(', ') || '—'}</td>
                    <td>${u.createdAt.slice(0, 10)}</td>
                    <td>${u.disabledAt ? `disabled ${u.disabledAt.slice(0, 10)}` : 'active'}</td>
                    ${this.actions(u)}
                  </tr>`,
              )}
            </tbody>
          </table>`,
      })}
      <p>
        Grant ADMIN or MODEL_ADMIN (the model catalog) from a terminal:
        <code>npm run podium -- users grant &lt;username&gt; ADMIN</code>
      </p>
    `;
  }
}
customElements.define('admin-users-page', AdminUsersPage);

declare global {
  interface HTMLElementTagNameMap {
    'admin-users-page': AdminUsersPage;
  }
}
