import { inNewWindow, saveScreenshot, useBrowser } from '../support/browser';
import { chatContent } from '../support/openai-results';
import { useTestStack } from '../support/test-stack';

/** A PNG of one pixel, in base64. */
const onePixelPng = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const browser = useBrowser();
const stack = useTestStack();

describe('a model’s page, for anyone', () => {
  it('lets an anonymous visitor fill the model’s inputs, submit, and read the output as a table', async () => {
    await inNewWindow(browser(), async (page) => {
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
    });
  });

  it('asks an OpenAI model with a message, streams its answer token by token, and keeps the whole', async () => {
    await inNewWindow(browser(), async (page) => {
      await page.goto(`${stack.baseUrl}/models/markov`);
      // An empty message is said, not sent.
      await page.getByTestId('model-submit').click();
      await page.getByRole('alert').filter({ hasText: 'Message: write something' }).waitFor();
      await page.getByTestId('input-prompt').fill('We hold these');
      await page.getByTestId('input-maxTokens').fill('60');
      // The form's call, slowed a little in the raw JSON so the stream can be watched.
      await page.getByTestId('advanced').click();
      const call = JSON.parse(await page.getByTestId('raw-input').inputValue()) as { body: Record<string, unknown> };
      expect(call).toEqual({
        url: '/v1/chat/completions',
        body: { messages: [{ role: 'user', content: 'We hold these' }], stream: true, max_tokens: 60 },
      });
      call.body.token_delay_ms = 40;
      await page.getByTestId('raw-input').fill(JSON.stringify(call));
      const [accepted] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/requests')),
        page.getByTestId('model-submit').click(),
      ]);
      const { id } = (await accepted.json()) as { id: string };
      // Tokens show while it runs: the anonymous session's token reaches the events too.
      await page.getByTestId('streamed-output').filter({ hasText: /\S/ }).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('model-request-status').textContent()).toBe('PROCESSING');
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor({ timeout: 30_000 });
      const token = await page.evaluate(() => localStorage.getItem('podium.anonymousToken'));
      const { request } = await stack.api.waitUntilFinal(token!, id);
      expect(await page.getByTestId('output-text').textContent()).toBe(chatContent(request.result));
      expect(await page.getByTestId('model-request-times').textContent()).toMatch(/requested .* started .* ended /);
    });
  });

  it('takes an input from a file, sent as an upload: raw FP32 values, and text as one BYTES element', async () => {
    await inNewWindow(browser(), async (page) => {
      await page.goto(`${stack.baseUrl}/models/echo`);
      const values = Buffer.alloc(12);
      [1, 2, 3.5].forEach((value, i) => values.writeFloatLE(value, i * 4));
      // A file that is not whole FP32 values is said, and nothing is sent.
      await page
        .getByTestId('file-numbers')
        .setInputFiles({ name: 'odd.f32', mimeType: 'application/octet-stream', buffer: values.subarray(0, 10) });
      await page.getByTestId('model-submit').click();
      await page.getByRole('alert').filter({ hasText: '10 bytes is not a whole number' }).waitFor();
      expect(await page.getByTestId('model-request').count()).toBe(0);

      await page
        .getByTestId('file-numbers')
        .setInputFiles({ name: 'values.f32', mimeType: 'application/octet-stream', buffer: values });
      await page.getByTestId('file-chosen-numbers').filter({ hasText: 'values.f32 (12 bytes)' }).waitFor();
      expect(await page.getByTestId('snippet').textContent()).toContain('$PAYLOAD_numbers');
      const [upload] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/payloads')),
        page.getByTestId('model-submit').click(),
      ]);
      expect(upload.status()).toBe(201);
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor();
      expect(await page.getByTestId('output-numbers').locator('td').allTextContents()).toEqual(['1', '2', '3.5']);

      await page.goto(`${stack.baseUrl}/models/sentiment`);
      await page
        .getByTestId('file-text')
        .setInputFiles({ name: 'review.txt', mimeType: 'text/plain', buffer: Buffer.from('what a lovely day') });
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('output-label').textContent()).toBe('positive');
    });
  });

  it('shows an image output as the image', async () => {
    await inNewWindow(browser(), async (page) => {
      await page.goto(`${stack.baseUrl}/models/echo`);
      await page.getByTestId('advanced').click();
      // Echo gives the tensor back with its content type.
      await page.getByTestId('raw-input').fill(
        JSON.stringify({
          inputs: [
            {
              name: 'picture',
              shape: [1],
              datatype: 'BYTES',
              data: [onePixelPng],
              parameters: { content_type: 'image/png' },
            },
          ],
        }),
      );
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'COMPLETE' }).waitFor();
      const image = page.getByTestId('output-picture').locator('img');
      await image.waitFor();
      expect(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
      expect(await image.getAttribute('alt')).toBe('picture, image 1 of 1');
    });
  });

  it('says why a request failed', async () => {
    await inNewWindow(browser(), async (page) => {
      await page.goto(`${stack.baseUrl}/models/fail`);
      await page.getByTestId('input-numbers').fill('1 2');
      await page.getByTestId('model-submit').click();
      await page.getByTestId('model-request-status').filter({ hasText: 'FAILED' }).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('model-request-error').textContent()).toMatch(/^[A-Z_]+: \S/);
    });
  });

  it('says so for a model that does not exist', async () => {
    await inNewWindow(browser(), async (page) => {
      await page.goto(`${stack.baseUrl}/models/nope`);
      await page.getByTestId('no-such-model').waitFor();
    });
  });
});
