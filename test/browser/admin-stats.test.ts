import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { sql } from 'slonik';
import { saveScreenshot, signInThroughPage, useBrowser } from '../support/browser';
import { useTestStack } from '../support/test-stack';

let admin: { username: string; password: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  admin = await stack.signUpAdmin('statsadmin');
  // alpha: 5 successes, 2 failures; beta: 3 successes, 1 failure — on 1 and 2 November (UTC).
  const rows: Array<[string, boolean, string]> = [
    ...Array.from({ length: 5 }, (_, i): [string, boolean, string] => ['alpha', true, `2026-11-01T0${i}:00:00Z`]),
    ['alpha', false, '2026-11-01T10:00:00Z'],
    ['alpha', false, '2026-11-02T10:00:00Z'],
    ...Array.from({ length: 3 }, (_, i): [string, boolean, string] => ['beta', true, `2026-11-02T0${i}:30:00Z`]),
    ['beta', false, '2026-11-02T12:00:00Z'],
  ];
  for (const [model, success, at] of rows) {
    await stack.db.query(sql.unsafe`
      INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
      VALUES (${model}, ${randomUUID()}, 1, ${success}, ${at}::timestamptz, ${at}::timestamptz + interval '200 ms', ${at}::timestamptz + interval '450 ms')`);
  }
});

/** The table as text, header row first. */
async function tableText(page: Page): Promise<string[][]> {
  return page
    .getByTestId('stats-table')
    .locator('tr')
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent!.trim())),
    );
}

async function waitForRows(page: Page, count: number) {
  await page
    .getByTestId('stats-table')
    .locator('tbody tr')
    .nth(count - 1)
    .waitFor();
  await page.waitForFunction(
    (n) =>
      document
        .querySelector('podium-app')!
        .shadowRoot!.querySelector('admin-stats-page')!
        .shadowRoot!.querySelectorAll('tbody tr').length === n,
    count,
  );
}

describe('/admin/stats', () => {
  it('rollup toggles re-query the table, the URL keeps the view, and the CSV holds what the table shows', async () => {
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.getByTestId('stats-link').click();
      await page.waitForURL('**/admin/stats');
      await waitForRows(page, 11);
      await page.getByText('Dates are whole days in UTC').waitFor();
      await page.locator('stats-chart svg').waitFor();
      expect(await page.getByTestId('stats-source').count()).toBe(0); // raw rows: exact, nothing to say
      await saveScreenshot(page, 'admin-stats-raw');

      await page.getByTestId('rollup-model').click();
      await waitForRows(page, 2);
      expect(new URL(page.url()).searchParams.get('rollup')).toBe('model');
      expect((await tableText(page)).slice(1).map((row) => row.slice(0, 4))).toEqual([
        ['alpha', '7', '5', '2'],
        ['beta', '4', '3', '1'],
      ]);

      await page.getByTestId('rollup-status').click();
      await waitForRows(page, 4);
      expect(new URL(page.url()).searchParams.get('rollup')).toBe('model,status');
      const table = await tableText(page);
      expect(table.slice(1).map((row) => row.slice(0, 5))).toEqual([
        ['alpha', 'failure', '2', '0', '2'],
        ['alpha', 'success', '5', '5', '0'],
        ['beta', 'failure', '1', '0', '1'],
        ['beta', 'success', '3', '3', '0'],
      ]);
      expect(await page.getByTestId('stats-source').textContent()).toContain(
        'Percentiles are estimated from rollups, each within 1 % of the exact value',
      );
      await saveScreenshot(page, 'admin-stats-by-model-status');

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
      expect(download.suggestedFilename()).toMatch(/^podium-stats_.*by-model-status\.csv$/);
      const [header, ...records] = parse(await readFile((await download.path())!, 'utf8')) as string[][];
      const column = (name: string) => header!.indexOf(name);
      expect(
        records.map((r) => [
          r[column('model')],
          r[column('status')],
          r[column('count')],
          r[column('success_count')],
          r[column('failure_count')],
        ]),
      ).toEqual(table.slice(1).map((row) => row.slice(0, 5)));

      // A shared link opens the same view.
      await page.goto(page.url());
      await waitForRows(page, 4);
      expect(await page.getByTestId('rollup-model').getAttribute('aria-pressed')).toBe('true');
      expect(await page.getByTestId('rollup-status').getAttribute('aria-pressed')).toBe('true');
    } finally {
      await close();
    }
  });

  it('filters narrow the table; a filter that matches nothing says so', async () => {
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.goto(`${stack.baseUrl}/admin/stats?model=beta&bucket=day`);
      await waitForRows(page, 1);
      expect((await tableText(page)).slice(1).map((row) => row.slice(0, 4))).toEqual([['2026-11-02', '4', '3', '1']]);
      await page.getByTestId('filter-status').selectOption('failure');
      await page.getByTestId('filter-from').fill('2026-11-03');
      await page.getByTestId('stats-empty').waitFor();
      expect(new URL(page.url()).search).toBe('?model=beta&from=2026-11-03&status=failure&bucket=day');
    } finally {
      await close();
    }
  });

  it('"Load more" appends the next 100 rows under the first', async () => {
    // Last in this file: these rows would change the counts the tests above expect.
    await stack.db.query(sql.unsafe`
      INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
      SELECT 'gamma', gen_random_uuid(), 1, true, at, at + interval '100 ms', at + interval '300 ms'
        FROM (SELECT timestamptz '2026-11-03T00:00:00Z' + make_interval(mins => n) AS at FROM generate_series(1, 120) AS n) minutes`);
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.goto(`${stack.baseUrl}/admin/stats?model=gamma`);
      await waitForRows(page, 100);
      await page.getByTestId('load-more').click();
      await waitForRows(page, 120);
      expect(await page.getByTestId('load-more').count()).toBe(0);
    } finally {
      await close();
    }
  });

  it('a user without ADMIN gets no Stats link, and the page refuses them', async () => {
    const account = await stack.api.signUp({ username: `plain${randomUUID().slice(0, 8)}` });
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, {
      username: account.user.username,
      password: 'a long passphrase 42',
    });
    try {
      expect(await page.getByTestId('stats-link').count()).toBe(0);
      await page.goto(`${stack.baseUrl}/admin/stats`);
      await page.getByText('This page is for admins.').waitFor();
    } finally {
      await close();
    }
  });
});
