import type { Browser } from 'playwright-core';
import { launchBrowser, saveScreenshot } from '../support/browser';
import { useTestStack } from '../support/test-stack';

let browser: Browser;
let closeBrowser: () => Promise<void>;

const stack = useTestStack();
beforeAll(async () => {
  ({ browser, close: closeBrowser } = await launchBrowser());
});
afterAll(async () => {
  await closeBrowser?.();
});

describe('a model’s page, for anyone', () => {
  it('lets an anonymous visitor fill the model’s inputs, submit, and read the output as a table', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(stack.baseUrl);
      await page.getByTestId('model-link').filter({ hasText: 'Echo' }).click();
      await page.waitForURL(`${stack.baseUrl}/models/echo`);
      expect(await page.title()).toBe('echo — Podium');
      // A value that does not fit the input's datatype is said, and nothing is sent.
      await page.getByTestId('input-numbers').fill('1, x');
      await page.getByTestId('model-submit').click();
      await page.getByRole('alert').filter({ hasText: '"x" is not a FP32 value' }).waitFor();
      expect(await page.getByTestId('model-request').count()).toBe(0);

      await page.getByTestId('input-numbers').fill('1, 2, 3.5');
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor();
      expect(await page.getByTestId('output-numbers').locator('td').allTextContents()).toEqual(['1', '2', '3.5']);
      // The anonymous session is made once and kept for the next request.
      const token = await page.evaluate(() => localStorage.getItem('podium.anonymousToken'));
      expect(token).toMatch(/\S+/);
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor();
      expect(await page.evaluate(() => localStorage.getItem('podium.anonymousToken'))).toBe(token);
      // The same request from a terminal, stopping on errors.
      const snippet = await page.getByTestId('snippet').textContent();
      expect(snippet).toContain('jq -er .token');
      expect(snippet).toContain('"data":[1,2,3.5]');
      await saveScreenshot(page, 'model-page');
    } finally {
      await context.close();
    }
  });

  it('takes raw JSON too, and cancels a request on its way', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${stack.baseUrl}/models/echo`);
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
    } finally {
      await context.close();
    }
  });

  it('says so for a model that does not exist', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${stack.baseUrl}/models/nope`);
      await page.getByTestId('no-such-model').waitFor();
    } finally {
      await context.close();
    }
  });
});
