import { html, LitElement, nothing } from 'lit';
import type { AccountIssue } from '../../domain/accounts';
import { errorMessage } from '../podium-client';
import { navigate } from '../router';
import { session, type SessionUser } from '../session-store';
import { sharedStyles } from '../styles';

type Issue = Pick<AccountIssue, 'field' | 'message'>;

export class SignUpPage extends LitElement {
  static override properties = { issues: { state: true }, error: { state: true }, busy: { state: true } };
  static override styles = sharedStyles;
  declare issues: Issue[];
  declare error: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.issues = [];
    this.error = null;
    this.busy = false;
  }

  private async submit(event: SubmitEvent) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.busy = true;
    this.issues = [];
    this.error = null;
    try {
      const body = await fetch('/api/auth/signup', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-podium-token-transport': 'cookie' },
        body: JSON.stringify({
          username: String(form.get('username') ?? ''),
          email: String(form.get('email') ?? ''),
          password: String(form.get('password') ?? ''),
        }),
      });
      const answer = await body.json();
      if (!body.ok) {
        const issues = answer.error?.details?.issues as Issue[] | undefined;
        if (issues?.every((issue) => typeof issue.field === 'string')) this.issues = issues;
        else this.error = answer.error?.message ?? 'Sign-up failed';
        if (answer.error?.code === 'USERNAME_TAKEN')
          this.issues = [{ field: 'username', message: answer.error.message }];
        if (answer.error?.code === 'EMAIL_TAKEN') this.issues = [{ field: 'email', message: answer.error.message }];
        return;
      }
      session.signedIn((answer as { user: SessionUser }).user);
      navigate('/');
    } catch (error) {
      this.error = errorMessage(error);
    } finally {
      this.busy = false;
    }
  }

  private issueFor(field: string) {
    const issue = this.issues.find((candidate) => candidate.field === field);
    return issue
      ? html`<span class="field-error" id="${field}-error" data-field-error=${field}>${issue.message}</span>`
      : '';
  }

  /** A field's input, marked invalid and described by its error when it has one (screen readers read both). */
  private field(name: string, type: string, autocomplete: string) {
    const invalid = this.issues.some((issue) => issue.field === name);
    return html`<input
      name=${name}
      type=${type}
      autocomplete=${autocomplete}
      required
      aria-invalid=${invalid ? 'true' : 'false'}
      aria-describedby=${invalid ? `${name}-error` : nothing}
    />`;
  }

  /** After a refused sign-up, focus goes to the first field that needs fixing. */
  override updated(changed: Map<string, unknown>) {
    if (changed.has('issues') && this.issues.length > 0) {
      this.renderRoot.querySelector<HTMLInputElement>('input[aria-invalid="true"]')?.focus();
    }
  }

  override render() {
    return html`
      <h1>Sign up</h1>
      <form @submit=${this.submit}>
        <label>Username ${this.field('username', 'text', 'username')}${this.issueFor('username')}</label>
        <label>Email ${this.field('email', 'email', 'email')}${this.issueFor('email')}</label>
        <label>
          Password (10 or more characters)
          ${this.field('password', 'password', 'new-password')}${this.issueFor('password')}
        </label>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
        <button type="submit" ?disabled=${this.busy}>Create account</button>
      </form>
    `;
  }
}
customElements.define('sign-up-page', SignUpPage);

declare global {
  interface HTMLElementTagNameMap {
    'sign-up-page': SignUpPage;
  }
}
