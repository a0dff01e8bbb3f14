import { html, LitElement } from 'lit';
import { api, errorMessage, PodiumError } from '../podium-client';
import { navigate, returnPath } from '../router';
import { session, type SessionUser } from '../session-store';
import { sharedStyles } from '../styles';

export class SignInPage extends LitElement {
  static override properties = { error: { state: true }, busy: { state: true } };
  static override styles = sharedStyles;
  declare error: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.error = null;
    this.busy = false;
  }

  private async submit(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const login = String(form.get('login') ?? '').trim();
    this.busy = true;
    this.error = null;
    try {
      const body = await api.call<{ user: SessionUser }>('POST', '/api/auth/login', {
        body: {
          ...(login.includes('@') ? { email: login } : { username: login }),
          password: String(form.get('password') ?? ''),
        },
        maxRetries: 0, // a lockout (429) is told at once, not waited out
      });
      session.signedIn(body.user);
      // Back to the page that asked for a sign-in, if one did.
      navigate(returnPath(location.search));
    } catch (error) {
      this.error = errorMessage(error);
      // A lockout may be strangers' doing: say so, so that nobody thinks their password leaked.
      if (error instanceof PodiumError && error.code === 'TOO_MANY_ATTEMPTS') {
        this.error +=
          ' Failed sign-ins are counted per account and per address, whoever made them: someone else guessing at this account locks it for everyone for a while, without learning its password.';
      }
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`
      <h1>Sign in</h1>
      <form @submit=${this.submit}>
        <label>Username or email <input name="login" autocomplete="username" required /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
        <button type="submit" ?disabled=${this.busy}>Sign in</button>
        <p>No account yet? <a href="/signup">Sign up</a></p>
      </form>
    `;
  }
}
customElements.define('sign-in-page', SignInPage);

declare global {
  interface HTMLElementTagNameMap {
    'sign-in-page': SignInPage;
  }
}
