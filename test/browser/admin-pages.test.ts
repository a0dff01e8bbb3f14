import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { sql } from 'slonik';
import { saveScreenshot, signInThroughPage, useBrowser } from '../support/browser';
import { breakPool } from '../support/broken-pool';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';
import { poolWorkflowId } from '../../workflows/contracts';

let admin: { username: string; password: string };
let plain: { username: string; password: string; token: string };

const browser = useBrowser();
const stack = useTestStack();
beforeAll(async () => {
  admin = await stack.signUpAdmin('pagesadmin');
  const account = await stack.api.signUp({ username: `plain${randomUUID().slice(0, 8)}` });
  plain = { username: account.user.username, password: 'a long passphrase 42', token: account.accessToken };
});

const adminPage = (page: Page, element: string) => page.locator(element);
const secret = `secret-${randomUUID()}`;

describe('admin pages in the browser', () => {
  it('a user without ADMIN sees no admin entries, and each admin page answers 403', async () => {
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, plain);
    try {
      for (const link of [
        'admin-requests-link',
        'admin-instances-link',
        'admin-models-link',
        'stats-link',
        'admin-link',
      ]) {
        expect(await page.getByTestId(link).count()).toBe(0);
      }
      for (const path of ['/admin/requests', '/admin/instances', `/admin/instances/${randomUUID()}`, '/admin/models']) {
        await page.goto(`${stack.baseUrl}${path}`);
        await page.getByTestId('forbidden').waitFor();
      }
      await saveScreenshot(page, 'admin-forbidden');
    } finally {
      await close();
    }
  });

  it('all requests: filters in the URL, view data (audited), fail and re-queue with confirmation', async () => {
    await addTestModel(stack.db, { id: 'echo-slow-admin', maxInstances: 1 });
    const done = await stack.api.submit(plain.token, {
      model: 'echo',
      input: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [secret] }] },
    });
    await stack.api.waitUntilFinal(plain.token, done.body.id);
    const slow = await stack.api.submit(plain.token, {
      model: 'echo-slow-admin',
      input: { ...echoInput, parameters: { delay_ms: 20_000 } },
    });

    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.getByTestId('admin-requests-link').click();
      const table = adminPage(page, 'admin-requests-page').getByTestId('admin-requests');
      await table.locator(`tr[data-request="${done.body.id}"]`).waitFor();
      expect(await table.textContent()).not.toContain(secret);
      await saveScreenshot(page, 'admin-requests');

      await page.getByTestId('filter-user').fill(plain.username);
      await page.getByTestId('filter-user').dispatchEvent('change');
      await page.getByTestId('filter-status').selectOption('COMPLETE');
      await page.waitForFunction(() => location.search.includes('status=COMPLETE'));
      expect(new URL(page.url()).searchParams.get('user')).toBe(plain.username);
      // The URL changes at once, the table when the filtered answer is in.
      expect(
        await eventually(
          () => table.locator('tbody tr').count(),
          (rows) => rows === 1,
        ),
      ).toBe(1);

      await table.locator(`tr[data-request="${done.body.id}"]`).getByTestId('view-data').click();
      await page.getByTestId('sensitive').getByText(secret).first().waitFor();
      // A COMPLETE request cannot be re-queued: its button says so before anyone tries.
      expect(await table.locator(`tr[data-request="${done.body.id}"]`).getByTestId('requeue').isDisabled()).toBe(true);

      // Fail the slow one (a prompt asks for the reason), then re-queue it (a confirm).
      await page.getByTestId('filter-status').selectOption('');
      const slowRow = table.locator(`tr[data-request="${slow.body.id}"]`);
      await slowRow.waitFor();
      // No reason, no fail: the page says why.
      page.once('dialog', (dialog) => void dialog.accept('  '));
      await slowRow.getByTestId('fail').click();
      await page.getByText('A reason is needed to fail a request').waitFor();
      page.once('dialog', (dialog) => void dialog.accept('stuck, failing it by hand'));
      await slowRow.getByTestId('fail').click();
      await page.getByTestId('notice').filter({ hasText: '→ FAILED requested' }).waitFor();
      // The row follows without a reload.
      await slowRow.locator('td.status-FAILED').waitFor();
      expect((await stack.api.waitUntilFinal(plain.token, slow.body.id)).request).toMatchObject({
        status: 'FAILED',
        error: { message: expect.stringContaining('stuck, failing it by hand') },
      });
      page.once('dialog', (dialog) => void dialog.accept());
      await page.reload();
      await slowRow.getByTestId('requeue').click();
      await page.getByTestId('notice').filter({ hasText: 'FAILED → REQUESTED requested' }).waitFor();
    } finally {
      await close();
    }
  });

  it('all requests: an owner or a session filters by a click; the whole id is there to copy', async () => {
    const anonymous = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(anonymous, { model: 'echo', input: echoInput });
    await stack.api.waitUntilFinal(anonymous, body.id);
    const { page, context, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.goto(`${stack.baseUrl}/admin/requests`);
      const row = adminPage(page, 'admin-requests-page').locator(`tr[data-request="${body.id}"]`);
      await row.getByTestId('copy-id').click();
      await page
        .getByTestId('notice')
        .filter({ hasText: `Copied ${body.id}` })
        .waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(body.id);
      // Started, finished, and the instance that served it, linked.
      expect(await row.locator('a[href^="/admin/instances/"]').count()).toBe(1);
      // View data opens under its row, in view, with the focus on it; a second click closes it.
      await row.getByTestId('view-data').click();
      await page.getByTestId('sensitive').waitFor();
      expect(
        await row.evaluate((tr) => tr.nextElementSibling?.querySelector('[data-testid="sensitive"]') != null),
      ).toBe(true);
      expect(await row.getByTestId('view-data').getAttribute('aria-expanded')).toBe('true');
      expect(
        await page.evaluate(
          () =>
            document
              .querySelector('podium-app')!
              .shadowRoot!.querySelector('admin-requests-page')!
              .shadowRoot!.activeElement?.getAttribute('data-testid') ?? null,
        ),
      ).toBe('sensitive');
      await row.getByTestId('view-data').click();
      expect(await page.getByTestId('sensitive').count()).toBe(0);
      await row.getByTestId('filter-by-session').click();
      await page.waitForFunction(() => new URLSearchParams(location.search).has('session'));
      const session = new URL(page.url()).searchParams.get('session');
      expect(session).toMatch(/^[0-9a-f-]{36}$/);
      await row.waitFor();
      // A model typed in capitals finds the model.
      await page.getByTestId('filter-model').fill('ECHO');
      await page.getByTestId('filter-model').dispatchEvent('change');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('model') === 'echo');
      await row.waitFor();
    } finally {
      await close();
    }
  });

  it('all requests: "Load more" adds the next page under the first', async () => {
    await addTestModel(stack.db, { id: 'echo-paging' });
    const first = await stack.api.submit(plain.token, { model: 'echo-paging', input: echoInput });
    await stack.api.waitUntilFinal(plain.token, first.body.id);
    // 54 more, written straight to the table (they need no workflow to be listed).
    await stack.db.query(sql.unsafe`
      INSERT INTO work_requests (id, model_id, session_id, input, workflow_id, status, created_at)
      SELECT gen_random_uuid(), model_id, session_id, input, 'request-paging-' || n, 'COMPLETE', created_at - make_interval(secs => n)
        FROM work_requests, generate_series(1, 54) AS n WHERE id = ${first.body.id}`);

    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.goto(`${stack.baseUrl}/admin/requests?model=echo-paging`);
      const rows = adminPage(page, 'admin-requests-page').getByTestId('admin-requests').locator('tbody tr');
      expect(
        await eventually(
          () => rows.count(),
          (n) => n === 50,
        ),
      ).toBe(50);
      await page.getByRole('button', { name: 'Load more' }).click();
      expect(
        await eventually(
          () => rows.count(),
          (n) => n === 55,
        ),
      ).toBe(55);
      expect(await rows.first().getAttribute('data-request')).toBe(first.body.id);
      expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    } finally {
      await close();
    }
  });

  it('users: an admin disables an account with a reason, which ends its sessions, and enables it again; not their own', async () => {
    const someone = await stack.api.signUp({ username: `pagevictim${Date.now()}` });
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    page.on('dialog', (dialog) => void dialog.accept('spam from this account'));
    try {
      await page.goto(`${stack.baseUrl}/admin/users`);
      const users = adminPage(page, 'admin-users-page');
      expect(await users.locator(`tr[data-user="${admin.username}"]`).getByTestId('disable').isDisabled()).toBe(true);
      const row = users.locator(`tr[data-user="${someone.user.username}"]`);
      await row.getByTestId('disable').click();
      await users
        .getByTestId('notice')
        .filter({ hasText: `${someone.user.username} disabled; 1 session(s) ended.` })
        .waitFor();
      await row.getByText(/^disabled /).waitFor();
      expect((await stack.api.call('GET', '/api/auth/me', { token: someone.accessToken })).status).toBe(401);
      await row.getByTestId('enable').click();
      await users
        .getByTestId('notice')
        .filter({ hasText: `${someone.user.username} enabled.` })
        .waitFor();
      expect((await stack.api.login(someone.user.username)).user.username).toBe(someone.user.username);
      await saveScreenshot(page, 'admin-users');
    } finally {
      await close();
    }
  });

  it('users: every account with its permissions; signed out, the front page lists the models', async () => {
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.goto(`${stack.baseUrl}/admin/users`);
      const row = adminPage(page, 'admin-users-page').locator('tr', { hasText: admin.username });
      expect(await row.textContent()).toContain('ADMIN');
    } finally {
      await close();
    }
    const visitor = await browser().newPage();
    try {
      await visitor.goto(stack.baseUrl);
      await adminPage(visitor, 'catalog-page').getByText('echo', { exact: true }).waitFor();
    } finally {
      await visitor.close();
    }
  });

  it('instances: the live list with events, the history page, and stop', async () => {
    await addTestModel(stack.db, { id: 'echo-pages', keepWarmSeconds: 600 });
    const request = await stack.api.submit(plain.token, { model: 'echo-pages', input: echoInput });
    await stack.api.waitUntilFinal(plain.token, request.body.id);

    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.getByTestId('admin-instances-link').click();
      await page.getByTestId('filter-model').fill('echo-pages');
      await page.getByTestId('filter-model').dispatchEvent('change');
      const table = adminPage(page, 'admin-instances-page').getByTestId('admin-instances');
      const row = table.locator('tbody tr');
      // The first answer may still be the unfiltered list: wait for the filtered one.
      await eventually(
        () => row.allTextContents(),
        (rows) => rows.length === 1 && rows[0]!.includes('echo-pages'),
        10_000,
      );
      expect(await row.textContent()).toContain('RELEASED');
      await saveScreenshot(page, 'admin-instances');
      // The status is a choice from the fixed set: a status it does not have empties the list.
      await page.getByTestId('filter-status').selectOption('READY');
      await page.waitForFunction(() => new URLSearchParams(location.search).get('status') === 'READY');
      await eventually(
        () => row.count(),
        (n) => n === 0,
        10_000,
      );
      await page.getByTestId('filter-status').selectOption('RELEASED');
      await eventually(
        () => row.count(),
        (n) => n === 1,
        10_000,
      );

      await row.locator('a').first().click();
      await page.waitForURL(/\/admin\/instances\/[0-9a-f-]{36}$/);
      const timeline = adminPage(page, 'admin-instance-page').getByTestId('timeline');
      await timeline.getByText(`assigned to request ${request.body.id.slice(0, 8)}`).waitFor();
      await adminPage(page, 'admin-instance-page')
        .getByTestId('workflow-events')
        .getByText('startInstance')
        .first()
        .waitFor();
      await saveScreenshot(page, 'admin-instance-history');

      await page.goBack();
      await row.first().waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByTestId('stop').click();
      await page.getByTestId('notice').waitFor();
      // The page refreshes itself: the stopped instance leaves the list.
      await adminPage(page, 'admin-instances-page').getByTestId('instances-empty').waitFor({ timeout: 15_000 });
    } finally {
      await close();
    }
  });

  it('instances: a pool whose workflow task keeps failing is named in red', async () => {
    await addTestModel(stack.db, { id: 'echo-broken-page' });
    await stack.api.waitUntilFinal(
      plain.token,
      (await stack.api.submit(plain.token, { model: 'echo-broken-page', input: echoInput })).body.id,
    );
    const pool = stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, 'echo-broken-page'));
    await breakPool(pool);

    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    try {
      await page.goto(`${stack.baseUrl}/admin/instances`);
      const notice = adminPage(page, 'admin-instances-page').getByTestId('pool-failing');
      await notice.waitFor();
      expect(await notice.textContent()).toContain(poolWorkflowId(stack.taskQueue, 'echo-broken-page'));
      expect(await notice.textContent()).toContain('MODEL_POOL_FAILING');
      await saveScreenshot(page, 'admin-instances-pool-failing');
    } finally {
      await close();
      await pool.terminate('test over');
    }
  });

  it('models: register one, refuse a bad edit field by field, save a good one, delete with confirmation', async () => {
    const { page, close } = await signInThroughPage(browser(), stack.baseUrl, admin);
    const models = adminPage(page, 'admin-models-page');
    const setSettings = async (edit: (settings: Record<string, unknown>) => Record<string, unknown>) => {
      const text = models.getByTestId('model-settings');
      await text.fill(JSON.stringify(edit(JSON.parse(await text.inputValue())), null, 2));
    };
    try {
      await page.getByTestId('admin-models-link').click();
      await models.locator('tr[data-model="echo"]').waitFor();

      await models.getByTestId('new-model').click();
      await models.getByTestId('model-id').fill('page-echo');
      await setSettings((settings) => ({ ...settings, displayName: 'Echo from the page' }));
      await models.getByTestId('save-model').click();
      await models.getByTestId('notice').filter({ hasText: 'Registered page-echo' }).waitFor();
      const row = models.locator('tr[data-model="page-echo"]');
      expect(await row.textContent()).toContain('Echo from the page');
      const token = await stack.api.anonymousToken();
      expect(
        (
          await stack.api.waitUntilFinal(
            token,
            (await stack.api.submit(token, { model: 'page-echo', input: echoInput })).body.id,
          )
        ).request.status,
      ).toBe('COMPLETE');

      await row.getByTestId('edit-model').click();
      await setSettings((settings) => ({ ...settings, keepWarmSeconds: -5, runtime: 'tgi' }));
      await models.getByTestId('save-model').click();
      const issues = models.getByTestId('model-issues');
      await issues.waitFor();
      expect(await issues.textContent()).toContain('keepWarmSeconds');
      expect(await issues.textContent()).toContain('runtime');
      await saveScreenshot(page, 'admin-models-edit');
      await setSettings((settings) => ({ ...settings, keepWarmSeconds: 5, runtime: 'podium-node' }));
      await models.getByTestId('save-model').click();
      await models.getByTestId('notice').filter({ hasText: 'Saved page-echo' }).waitFor();
      expect(await row.textContent()).toContain('5 s');

      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByTestId('delete-model').click();
      await models.getByTestId('notice').filter({ hasText: 'Deleted page-echo' }).waitFor();
      await row.waitFor({ state: 'detached' });
      await saveScreenshot(page, 'admin-models');
    } finally {
      await close();
    }
  });
});
