import { useBrowser } from '../support/browser';
import { chatContent } from '../support/openai-results';
import { useTestStack } from '../support/test-stack';

const browser = useBrowser();
const stack = useTestStack();

describe('my requests page', () => {
  it('shows a streamed output as it comes, then the answer it adds up to', async () => {
    const username = `streamer${Date.now().toString(36)}`;
    const password = 'a long passphrase 42';
    await stack.api.signUp({ username, password });
    const context = await browser().newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${stack.baseUrl}/signin`);
      await page.getByLabel('Username or email').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('no-requests').waitFor();

      await page.getByLabel('Model').selectOption('markov');
      await page.getByText('Input (an OpenAI call').waitFor();
      const [accepted] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/requests')),
        page.getByRole('button', { name: 'Submit request' }).click(),
      ]);
      expect(accepted.status()).toBe(202);
      const { id } = (await accepted.json()) as { id: string };

      const detail = page.getByTestId('request-detail').filter({ hasText: id.slice(0, 8) });
      // Tokens show while the request is still PROCESSING.
      await detail.getByTestId('streamed-output').waitFor({ timeout: 20_000 });
      expect((await detail.getByTestId('streamed-output').textContent())!.length).toBeGreaterThan(0);
      await detail.getByText('COMPLETE').waitFor({ timeout: 20_000 });
      const token = (await stack.api.login(username, password)).accessToken;
      const { request } = await stack.api.waitUntilFinal(token, id);
      await detail.getByText(chatContent(request.result).slice(0, 40)).waitFor();
    } finally {
      await context.close();
    }
  });
});
