import { randomUUID } from 'node:crypto';
import { saveScreenshot, signInThroughPage, useBrowser } from '../support/browser';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';

let account: { username: string; password: string; token: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  const made = await stack.api.signUp({ username: `mine${randomUUID().slice(0, 8)}` });
  account = { username: made.user.username, password: 'a long passphrase 42', token: made.accessToken };
});

describe('my requests in the browser', () => {
  it('shows the request named in the URL, whole id, and cancels it', async () => {
    await addTestModel(stack.db, { id: 'echo-mine', maxInstances: 1 });
    const slow = { model: 'echo-mine', input: { ...echoInput, parameters: { delay_ms: 60_000 } } };
    const running = await stack.api.submitAccepted(account.token, slow);
    const waiting = await stack.api.submitAccepted(account.token, slow);
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, account);
    try {
      await page.goto(`${stack.baseUrl}/?request=${running}`);
      await page.getByTestId('request-id').filter({ hasText: running }).waitFor();
      await page.getByTestId('cancel').click();
      await page.getByTestId('request-status').filter({ hasText: 'CANCELLED' }).waitFor();
      expect(new URL(page.url()).searchParams.get('request')).toBe(running);
      // A row's own Cancel, for the one still waiting.
      await page
        .getByTestId('request-list')
        .locator('tr', { hasText: waiting.slice(0, 8) })
        .getByTestId('cancel-row')
        .click();
      await page.getByTestId('request-id').filter({ hasText: waiting }).waitFor();
      await page.getByTestId('request-status').filter({ hasText: 'CANCELLED' }).waitFor();
      await saveScreenshot(page, 'my-requests-cancelled');
      for (const id of [running, waiting]) {
        expect((await stack.api.waitForEnd(account.token, id, 60_000)).status).toBe('CANCELLED');
      }
    } finally {
      await close();
    }
  });
});
