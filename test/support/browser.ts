import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { readTestEnv } from './services';

/**
 * Debian's Chromium, headless, with the flags these machines need (no network but loopback).
 * Playwright gives each launch a fresh, empty profile of its own.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: readTestEnv('chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}

/**
 * A browser for a test file: launched before its tests, closed after them. The getter gives it
 * (it exists only once the file's beforeAll has run).
 */
export function useBrowser(): () => Browser {
  let launched: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  beforeAll(async () => {
    launched = await launchBrowser();
  });
  afterAll(async () => {
    await launched?.close();
  });
  return () => launched!.browser;
}

/** `use` in a fresh window (no session, no storage), closed after it whatever happens. */
export async function inNewWindow(
  browser: Browser,
  use: (page: import('playwright-core').Page) => Promise<void>,
  options: import('playwright-core').BrowserContextOptions = {},
): Promise<void> {
  const context = await browser.newContext(options);
  try {
    await use(await context.newPage());
  } finally {
    await context.close();
  }
}

/** A new browser context signed in through the sign-in page as `username`. */
export async function signInThroughPage(
  browser: Browser,
  baseUrl: string,
  account: { username: string; password: string },
) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('Username or email').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in, or the page says why not: a refusal fails the test with its reason, not a timeout.
  const signedIn = page.getByTestId('user-name').filter({ hasText: account.username });
  const refused = page.getByRole('alert');
  await signedIn.or(refused).first().waitFor();
  if (!(await signedIn.isVisible())) {
    throw new Error(`signing in as ${account.username} was refused: ${await refused.first().textContent()}`);
  }
  return { page, context, close: () => context.close() };
}

/**
 * Where browser tests save screenshots (git-ignored), one file per name. Those `forDocs` go to
 * docs/screenshots instead when PODIUM_DOCS_SCREENSHOTS=1 (`npm run docs:screenshots`), so an
 * ordinary test run leaves the committed ones alone.
 */
export async function saveScreenshot(
  page: import('playwright-core').Page,
  name: string,
  { forDocs = false }: { forDocs?: boolean } = {},
): Promise<void> {
  const toDocs = forDocs && process.env.PODIUM_DOCS_SCREENSHOTS === '1';
  const directory = path.resolve(__dirname, toDocs ? '../../docs/screenshots' : '../artifacts');
  await mkdir(directory, { recursive: true });
  // The docs show what a visitor sees in the window; a test's own screenshot shows the whole page.
  await page.screenshot({ path: path.join(directory, `${name}.png`), fullPage: !toDocs });
}
