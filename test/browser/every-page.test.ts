import type { Locator, Page } from 'playwright-core';
import { inNewWindow, saveScreenshot, useBrowser } from '../support/browser';
import { elementsPastRightEdge, pageWidth, scrollTablesToStart, seriousAxeViolations } from '../support/page-checks';
import { echoInput, useTestStack } from '../support/test-stack';

let admin: { username: string; password: string; token: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  admin = await stack.signUpAdmin('touradmin');
  // Rows for the admin tables and the stats: requests that have ended, on an instance.
  for (const input of [echoInput, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['lovely'] }] }]) {
    const model = input === echoInput ? 'echo' : 'sentiment';
    const id = await stack.api.submitAccepted(admin.token, { model, input });
    await stack.api.waitForEnd(admin.token, id, 120_000);
  }
});
/** A phone's and a laptop's window. */
const heights: Record<number, number> = { 390: 844, 1280: 800 };

/** `use` in a fresh window `width` px wide. */
const inWindowOf = (width: number, use: (page: Page) => Promise<void>) =>
  inNewWindow(browser(), use, { viewport: { width, height: heights[width]! } });

/**
 * What every page owes every visitor: it fits the window, axe-core finds nothing serious or
 * critical, and its screenshot is kept for the docs.
 */
async function checkPage(page: Page, name: string, width: number) {
  const fits = (await pageWidth(page)) <= width;
  const pastTheEdge = fits ? [] : await elementsPastRightEdge(page);
  expect({ page: name, fits, pastTheEdge }).toEqual({ page: name, fits: true, pastTheEdge: [] });
  expect({ name, violations: await seriousAxeViolations(page) }).toEqual({ name, violations: [] });
  // A click on a row's action scrolls its table sideways; the docs show each from its start.
  await scrollTablesToStart(page);
  await saveScreenshot(page, `${name}-${width}`, { forDocs: true });
}

async function visit(page: Page, path: string, ready: (page: Page) => Locator) {
  await page.goto(`${stack.baseUrl}${path}`);
  await ready(page).first().waitFor();
}

describe.each([390, 1280])('every page at %i px', (width) => {
  it('for an anonymous visitor: the models, a model tried and cancelled, a chat model, sign-in, sign-up, not found and sign-in needed', async () => {
    await inWindowOf(width, async (page) => {
      await visit(page, '/', (p) => p.getByTestId('model-link'));
      await checkPage(page, 'models', width);

      // Try a model from its page: the form from its inputs, the output by datatype.
      await page.getByTestId('model-link').filter({ hasText: 'Sentiment' }).click();
      await page.getByTestId('input-text').fill('what a lovely day\nthis is awful');
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor({ timeout: 120_000 });
      expect(await page.getByTestId('output-label').textContent()).toMatch(/\S+\n\S+/);
      expect(await page.getByTestId('output-score').locator('td').count()).toBe(2);
      await checkPage(page, 'model-page', width);

      // One that would take a minute, cancelled from the page.
      await visit(page, '/models/echo', (p) => p.getByTestId('input-numbers'));
      await page.getByTestId('advanced').click();
      await page.getByTestId('raw-input').fill(
        JSON.stringify({
          inputs: [{ name: 'numbers', shape: [1], datatype: 'FP32', data: [1] }],
          parameters: { delay_ms: 60_000 },
        }),
      );
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-cancel').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'CANCELLED' }).waitFor();
      await checkPage(page, 'model-page-cancelled', width);

      // An OpenAI model's page: a message, and its answer.
      await visit(page, '/models/markov', (p) => p.getByTestId('input-prompt'));
      await page.getByTestId('input-prompt').fill('We hold these');
      await page.getByTestId('input-maxTokens').fill('30');
      await page.getByTestId('model-submit').click();
      await page.getByTestId('output-text').waitFor({ timeout: 60_000 });
      await checkPage(page, 'model-page-chat', width);

      await visit(page, '/signin', (p) => p.getByLabel('Username or email'));
      await checkPage(page, 'sign-in', width);
      await visit(page, '/signup', (p) => p.getByRole('button', { name: 'Create account' }));
      await checkPage(page, 'sign-up', width);
      await visit(page, '/no/such/page', (p) => p.getByTestId('not-found'));
      await checkPage(page, 'not-found', width);
      await visit(page, '/admin/requests', (p) => p.getByTestId('sign-in-needed'));
      await checkPage(page, 'sign-in-needed', width);
    });
  });

  it('for an admin: my requests, all requests (acted on), instances, an instance, models, users and stats', async () => {
    await inWindowOf(width, async (page) => {
      await visit(page, '/signin', (p) => p.getByLabel('Username or email'));
      await page.getByLabel('Username or email').fill(admin.username);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('request-list').waitFor();
      await checkPage(page, 'my-requests', width);

      // An admin acts on a waiting request, and its row says what happened without a reload.
      const waiting = await stack.api.submitAccepted(admin.token, {
        model: 'echo',
        input: { ...echoInput, parameters: { delay_ms: 60_000 } },
      });
      await visit(page, `/admin/requests?user=${encodeURIComponent(admin.username)}`, (p) =>
        p.getByTestId('admin-requests').locator('tbody tr'),
      );
      const row = page.getByTestId('admin-requests').locator(`tr[data-request="${waiting}"]`);
      page.once('dialog', (dialog) => void dialog.accept('failed on the tour'));
      await row.getByTestId('fail').click();
      await row.locator('td.status-FAILED').waitFor({ timeout: 30_000 });
      await row.getByTestId('view-data').click();
      await page.getByTestId('sensitive').waitFor();
      await checkPage(page, 'admin-requests', width);

      await page.getByTestId('admin-requests').locator('a[href^="/admin/instances/"]').first().click();
      await page.getByTestId('timeline').waitFor();
      await checkPage(page, 'admin-instance', width);

      await visit(page, '/admin/instances', (p) =>
        p.getByTestId('admin-instances').or(p.getByTestId('instances-empty')),
      );
      await checkPage(page, 'admin-instances', width);
      await visit(page, '/admin/models', (p) => p.getByTestId('models'));
      await checkPage(page, 'admin-models', width);
      await visit(page, '/admin/users', (p) => p.getByTestId('end-sessions'));
      await checkPage(page, 'admin-users', width);
      await visit(page, '/admin/stats', (p) => p.getByTestId('stats-table'));
      await checkPage(page, 'admin-stats', width);
    });
  });
});
