import { html, type TemplateResult } from 'lit';
import { errorMessage } from './podium-client';

/**
 * How every page shows a load in flight and one that failed, for `Task.render` (@lit/task):
 * the task drops answers to superseded runs, so a slow answer never replaces a newer one.
 * `before` comes first in both (a page's heading), `failed` before the error's message.
 */
export function loadStates({ before, failed = '' }: { before?: TemplateResult; failed?: string } = {}) {
  const loading = () =>
    html`${before ?? ''}
      <p>Loading…</p>`;
  return {
    initial: loading,
    pending: loading,
    error: (error: unknown) =>
      html`${before ?? ''}
        <p class="error" role="alert">${failed}${errorMessage(error)}</p>`,
  };
}
