import type { Response } from 'playwright-core';
import { saveScreenshot, useBrowser } from '../support/browser';
import { useTestStack } from '../support/test-stack';

let admin: { username: string; password: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  admin = await stack.signUpAdmin('flowadmin');
});

/** A fresh, signed-out browser tab, and every answer of 400 or more it got. */
async function signedOutTab() {
  const context = await browser().newContext();
  const page = await context.newPage();
  const failed: string[] = [];
  page.on('response', (response: Response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  return { page, failed, close: () => context.close() };
}

describe('signing in, and pages that are not there', () => {
  it('asks a signed-out visitor of an admin page to sign in, then goes back to that page', async () => {
    const { page, failed, close } = await signedOutTab();
    try {
      await page.goto(`${stack.baseUrl}/admin/requests?status=FAILED`);
      await page.getByTestId('sign-in-needed').waitFor();
      expect(await page.title()).toBe('All requests — Podium');
      await page.getByTestId('sign-in-needed').getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Username or email').fill(admin.username);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('filter-status').waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/admin/requests?status=FAILED');
      // The header's Sign in comes back to the page it was clicked on, too.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor(); // signed out
      await page.goto(`${stack.baseUrl}/admin/stats`);
      await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Username or email').fill(admin.username);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${stack.baseUrl}/admin/stats`);
      // Signed in, the sign-in page says so instead of its form.
      await page.goto(`${stack.baseUrl}/signin`);
      await page.getByTestId('already-signed-in').waitFor();
      // No page asked for anything that is not there (the favicon included).
      expect(failed).toEqual([]);
    } finally {
      await close();
    }
  });

  it('answers an unknown page with a page that says so, in the tab title too', async () => {
    const { page, close } = await signedOutTab();
    try {
      await page.goto(`${stack.baseUrl}/no/such/page`);
      await page.getByTestId('not-found').waitFor();
      expect(await page.getByTestId('not-found').textContent()).toContain('/no/such/page');
      expect(await page.title()).toBe('Page not found — Podium');
      await saveScreenshot(page, 'not-found');
    } finally {
      await close();
    }
  });

  it('explains a lockout that other people’s failed guesses may have caused', async () => {
    const victim = await stack.api.signUp({ username: `locked${Date.now().toString(36)}` });
    for (let i = 0; i < 5; i++) {
      await stack.api.call('POST', '/api/auth/login', {
        json: { username: victim.user.username, password: 'a wrong guess 12345' },
      });
    }
    const { page, close } = await signedOutTab();
    try {
      await page.goto(`${stack.baseUrl}/signin`);
      await page.getByLabel('Username or email').fill(victim.user.username);
      await page.getByLabel('Password').fill('a long passphrase 42');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Too many failed sign-ins' }).waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('someone else guessing at this account');
    } finally {
      await close();
    }
  });
});
