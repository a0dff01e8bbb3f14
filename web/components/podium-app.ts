import { css, html, LitElement } from 'lit';
import type { Permission } from '../../domain/accounts';
import { api } from '../podium-client';
import '../pages/admin-instance-page';
import '../pages/admin-instances-page';
import '../pages/admin-models-page';
import '../pages/admin-requests-page';
import '../pages/admin-stats-page';
import '../pages/admin-users-page';
import '../pages/catalog-page';
import '../pages/model-page';
import '../pages/requests-page';
import '../pages/sign-in-page';
import '../pages/sign-up-page';
import { interceptLinks, navigate, signInFor } from '../router';
import { session, type SessionState, type SessionUser } from '../session-store';

/** The shell: header with the user's name and the links they may use, then the current page. */
export class PodiumApp extends LitElement {
  static override properties = { path: { state: true }, auth: { state: true } };
  declare path: string;
  declare auth: SessionState;

  static override styles = css`
    :host {
      display: block;
    }
    header {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem 1rem;
      align-items: center;
      padding: 0.75rem 1.5rem;
      background: #1d232b;
      color: white;
    }
    header a {
      color: #cfe0ff;
      text-decoration: none;
    }
    header .brand {
      font-weight: 700;
      color: white;
      margin-right: 1rem;
    }
    header .spacer {
      flex: 1;
    }
    header button {
      font: inherit;
      background: none;
      border: 1px solid #cfe0ff;
      color: #cfe0ff;
      border-radius: 6px;
      padding: 0.2rem 0.6rem;
      cursor: pointer;
    }
    main {
      max-width: 76rem; /* the widest admin tables fit a 1280 px window */
      margin: 0 auto;
      padding: 1.5rem 1rem;
    }
    main:focus {
      outline: none;
    }
    .skip {
      position: absolute;
      left: -999px;
    }
    .skip:focus {
      left: 1rem;
      top: 0.5rem;
      background: white;
      color: #1d232b;
      padding: 0.3rem 0.6rem;
      border-radius: 6px;
      z-index: 1;
    }
    .banner {
      background: #fef3f2;
      color: #b42318;
      border-bottom: 1px solid #fecdca;
      padding: 0.6rem 1.5rem;
    }
  `;

  private readonly onSessionChange = () => (this.auth = session.state);
  private readonly onNavigate = () => (this.path = location.pathname);

  constructor() {
    super();
    this.path = location.pathname;
    this.auth = session.state;
  }

  override connectedCallback() {
    super.connectedCallback();
    session.addEventListener('change', this.onSessionChange);
    window.addEventListener('popstate', this.onNavigate);
    window.addEventListener('podium-navigate', this.onNavigate);
    this.addEventListener('click', interceptLinks);
    // The cached user shows at once; this brings its permissions up to date.
    if (session.state.status === 'signed-in') {
      api.call<{ user: SessionUser }>('GET', '/api/auth/me').then(
        ({ user }) => session.signedIn(user),
        () => undefined, // an ended session has already been shown as expired
      );
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    session.removeEventListener('change', this.onSessionChange);
    window.removeEventListener('popstate', this.onNavigate);
    window.removeEventListener('podium-navigate', this.onNavigate);
  }

  private async signOut() {
    await api.call('POST', '/api/auth/logout').catch(() => undefined);
    session.signedOut();
    navigate('/');
  }

  private page() {
    const signedIn = this.auth.status === 'signed-in';
    switch (this.path) {
      case '/signin':
        return signedIn
          ? html`<h1>Signed in</h1>
              <p data-testid="already-signed-in">
                You are signed in as ${this.auth.user!.username}. <a href="/">Go to your requests</a>.
              </p>`
          : html`<sign-in-page></sign-in-page>`;
      case '/signup':
        return html`<sign-up-page></sign-up-page>`;
      case '/admin/users':
        return this.adminOnly(html`<admin-users-page></admin-users-page>`);
      case '/admin/stats':
        return this.adminOnly(html`<admin-stats-page></admin-stats-page>`);
      case '/admin/requests':
        return this.adminOnly(html`<admin-requests-page></admin-requests-page>`);
      case '/admin/instances':
        return this.adminOnly(html`<admin-instances-page></admin-instances-page>`);
      case '/admin/models':
        return this.adminOnly(html`<admin-models-page></admin-models-page>`, 'MODEL_ADMIN');
      case '/':
        return signedIn ? html`<requests-page></requests-page>` : html`<catalog-page></catalog-page>`;
      default: {
        const model = /^\/models\/([^/]+)$/.exec(this.path);
        if (model) return html`<model-page .modelId=${decodeURIComponent(model[1]!)}></model-page>`;
        const instance = /^\/admin\/instances\/([0-9a-f-]{36})$/.exec(this.path);
        if (instance)
          return this.adminOnly(html`<admin-instance-page .instanceId=${instance[1]!}></admin-instance-page>`);
        return html`<h1>Page not found</h1>
          <p data-testid="not-found">There is no page at <code>${this.path}</code>. <a href="/">Go home</a>.</p>`;
      }
    }
  }

  /** The tab's title: the page's name, then Podium. */
  private pageTitle(): string {
    const signedIn = this.auth.status === 'signed-in';
    const names: Record<string, string> = {
      '/': signedIn ? 'My requests' : 'Models',
      '/signin': 'Sign in',
      '/signup': 'Sign up',
      '/admin/users': 'Users',
      '/admin/stats': 'Stats',
      '/admin/requests': 'All requests',
      '/admin/instances': 'Instances',
      '/admin/models': 'Models',
    };
    const name =
      names[this.path] ??
      (this.path.startsWith('/admin/instances/')
        ? 'Instance'
        : this.path.startsWith('/models/')
          ? decodeURIComponent(this.path.slice('/models/'.length))
          : 'Page not found');
    return `${name} — Podium`;
  }

  override updated(changed: Map<string, unknown>) {
    document.title = this.pageTitle();
    // A new page: focus goes to its content, as a page load would put a screen reader there.
    if (changed.has('path') && changed.get('path') !== undefined) this.mainElement()?.focus();
  }

  private mainElement() {
    return this.renderRoot.querySelector<HTMLElement>('main');
  }

  private readonly skipToMain = (event: Event) => {
    event.preventDefault();
    event.stopPropagation(); // not a navigation (interceptLinks)
    this.mainElement()?.focus();
  };

  /** The server refuses these pages' data to others anyway; this says so instead of an empty page. */
  private adminOnly(page: unknown, permission: Permission = 'ADMIN') {
    if (session.hasPermission(permission)) return page;
    // Signed out (or never signed in): the way in, and back here after it.
    if (this.auth.status !== 'signed-in') {
      return html`<h1>Sign in to view this page</h1>
        <p data-testid="sign-in-needed">
          <a href=${signInFor(this.path + location.search)}>Sign in</a> with an account that may see it.
        </p>`;
    }
    return html`<h1>403</h1>
      <p data-testid="forbidden">
        This page is for ${permission === 'ADMIN' ? 'admins' : 'model admins (MODEL_ADMIN)'}.
      </p>`;
  }

  override render() {
    const user = this.auth.user;
    return html`
      <a class="skip" href="#main" data-testid="skip-link" @click=${this.skipToMain}>Skip to content</a>
      <header>
        <a class="brand" href="/">Podium</a>
        ${user ? html`<a href="/">My requests</a>` : ''}
        ${
          session.hasPermission('ADMIN')
            ? html`<a href="/admin/requests" data-testid="admin-requests-link">All requests</a>
                <a href="/admin/instances" data-testid="admin-instances-link">Instances</a>
                <a href="/admin/stats" data-testid="stats-link">Stats</a>
                <a href="/admin/users" data-testid="admin-link">Users</a>`
            : ''
        }
        ${session.hasPermission('MODEL_ADMIN') ? html`<a href="/admin/models" data-testid="admin-models-link">Models</a>` : ''}
        <span class="spacer"></span>
        ${
          user
            ? html`<span data-testid="user-name">${user.username}</span
                ><button @click=${this.signOut}>Sign out</button>`
            : html`<a
                  href=${this.path === '/' || this.path.startsWith('/sign') ? '/signin' : signInFor(this.path + location.search)}
                  >Sign in</a
                ><a href="/signup">Sign up</a>`
        }
      </header>
      ${
        this.auth.status === 'expired'
          ? html`<div class="banner" role="alert" data-testid="session-expired">
              Session expired. <a href="/signin">Sign in again</a>.
            </div>`
          : ''
      }
      <main id="main" tabindex="-1">${this.page()}</main>
    `;
  }
}

customElements.define('podium-app', PodiumApp);

declare global {
  interface HTMLElementTagNameMap {
    'podium-app': PodiumApp;
  }
}
