import { saveScreenshot, useBrowser } from '../support/browser';
import { echoInput, useTestStack } from '../support/test-stack';

let admin: { username: string; password: string; token: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  admin = await stack.signUpAdmin('layoutadmin');
  // Some rows for the wide tables: requests, and (once they have ended) their stats.
  for (let i = 0; i < 3; i++) {
    const id = await stack.api.submitAccepted(admin.token, { model: 'echo', input: echoInput });
    await stack.api.waitForEnd(admin.token, id, 60_000);
  }
});

/** Signed in as the admin, in a window `width` px wide. */
async function adminAt(width: number) {
  const context = await browser().newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/signin`);
  await page.getByLabel('Username or email').fill(admin.username);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('user-name').waitFor();
  return { page, close: () => context.close() };
}

const pageWidth = (page: import('playwright-core').Page) => page.evaluate(() => document.documentElement.scrollWidth);

describe('the layout on a phone and a laptop', () => {
  it.each([390, 1280])('at %i px the page never scrolls sideways, and the header fits', async (width) => {
    const { page, close } = await adminAt(width);
    try {
      for (const path of ['/', '/admin/requests', '/admin/stats']) {
        await page.goto(`${stack.baseUrl}${path}`);
        await page.getByTestId('user-name').waitFor();
        await page.locator('table').first().waitFor();
        expect(await pageWidth(page)).toBeLessThanOrEqual(width);
      }
      const signOut = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
      expect(signOut!.x + signOut!.width).toBeLessThanOrEqual(width);
      await saveScreenshot(page, `layout-${width}`);
    } finally {
      await close();
    }
  });

  it('offers a skip link first, which moves focus to the page’s content', async () => {
    const { page, close } = await adminAt(1280);
    try {
      await page.goto(`${stack.baseUrl}/admin/requests`);
      await page.locator('table').first().waitFor();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      const focused = await page.evaluate(
        () => document.querySelector('podium-app')!.shadowRoot!.activeElement?.tagName ?? null,
      );
      expect(focused).toBe('MAIN');
      expect(new URL(page.url()).pathname).toBe('/admin/requests');
    } finally {
      await close();
    }
  });
});
