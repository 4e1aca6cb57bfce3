/**
 * The UI in a real browser against the whole embedded pipeline, started in-process: sign in, find
 * generated ERROR logs (and a hostile log shown as text), page, open a row; watch the live tail;
 * see the dashboard count; create and delete an alert rule; see the pipeline's stages report.
 * Screenshots go to /tmp/logflow-ui-*.png.
 *
 * Needs Chromium from Debian (`apt-get install -y chromium`, path overridable with
 * LOGFLOW_CHROMIUM); playwright-core drives it, no browser download. Missing Chromium fails the
 * run in CI and skips elsewhere.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../../../app/run.ts';
import { allStages } from '../../../app/stages.ts';
import { loadConfig } from '../../../common/config.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const CHROMIUM = process.env.LOGFLOW_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PASSWORD = 'ui-test-password-1';
const MARKER = 'zq9uimarker';
const HOSTILE = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> ${MARKER}`;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`Chromium not found at ${CHROMIUM}: CI must install the Debian package "chromium"`);
}
if (!haveChromium) console.warn(`[ui.test] ${CHROMIUM} missing (apt-get install -y chromium): skipping`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

const utcSeconds = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

describe.skipIf(!haveChromium)('UI in a browser', () => {
  let dataDir: string;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'logflow-ui-e2e-'));
    const port = await freePort();
    const config = loadConfig({
      LOGFLOW_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOGFLOW_ADMIN_PASSWORD: PASSWORD,
      LOGFLOW_GENERATE_RATE: '40',
      LOGFLOW_PARTITIONS: '2',
    });
    app = await startApp(config, { stages: allStages(), api: true });
    base = `http://127.0.0.1:${port}`;
    // A log whose message is markup: the UI must show it as text and never run it.
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    appendFileSync(
      join(dataDir, 'logs', 'hostile.log'),
      `${utcSeconds(new Date())} ERROR [ui-test-service] ${HOSTILE}\n`,
    );

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('dialog', (dialog) => dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function shot(name: string) {
    await page.screenshot({ path: `/tmp/logflow-ui-${name}.png`, fullPage: true });
  }

  it('refuses a wrong password and signs in with the right one', async () => {
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('form.login-form button[type=submit]');
    await expect
      .poll(() => page.locator('.notice-error').textContent())
      .toContain('Invalid username or password');
    await shot('login');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('form.login-form button[type=submit]');
    await page.locator('nav.tabs a.active', { hasText: 'Search' }).waitFor();
    expect(await page.locator('.user-name').textContent()).toBe('admin');
  });

  it('finds generated ERROR logs, shows counts and a histogram, pages and opens a row', async () => {
    await page.locator('label.chip', { hasText: 'ERROR' }).locator('input').check();
    // The pipeline needs a moment before the first ERROR is indexed: search again until it is.
    await waitFor(
      async () => {
        await page.click('form.search-form button[type=submit]');
        await page.locator('.result-count, .empty, .notice-error').first().waitFor();
        return (await page.locator('tr.log-row').count()) > 0;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'ERROR logs in the results' },
    );
    const levels = await page
      .locator('tr.log-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-level')));
    expect(new Set(levels)).toEqual(new Set(['ERROR']));
    expect(await page.locator('.aggregations .count-bar').first().textContent()).toContain('ERROR');
    await page.locator('.histogram svg.chart rect').first().waitFor();

    const first = page.locator('tr.log-row').first();
    await first.click();
    expect(await first.getAttribute('aria-expanded')).toBe('true');
    const detail = page.locator('tr.detail-row:not(.hidden) .log-detail').first();
    await detail.waitFor();
    expect(await detail.locator('dt', { hasText: 'id' }).count()).toBeGreaterThan(0);
    await shot('search');

    // Paging by cursor, when there is more than one page of errors.
    await waitFor(
      async () => {
        await page.click('form.search-form button[type=submit]');
        await page.locator('.page-info').waitFor();
        return page.locator('button.next-page:not([disabled])').count();
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'a second page of ERROR logs' },
    );
    await page.click('button.next-page');
    await expect.poll(() => page.locator('.page-info').textContent()).toMatch(/^51–/);
  });

  it('shows a log whose message is markup as text, without running it', async () => {
    await page.locator('label.chip', { hasText: 'ERROR' }).locator('input').uncheck();
    await page.fill('input[name=query]', MARKER);
    await waitFor(
      async () => {
        await page.click('form.search-form button[type=submit]');
        await page.locator('.result-count, .empty').first().waitFor();
        return (await page.locator('tr.log-row').count()) === 1;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'the hostile log' },
    );
    await page.locator('tr.log-row').first().click();
    expect(await page.locator('tr.log-row td.message').first().textContent()).toBe(HOSTILE);
    expect(await page.locator('.results img, .results script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    await shot('search-hostile');
    await page.fill('input[name=query]', '');
  });

  it('live-tails new logs, pauses and resumes', async () => {
    await page.click('nav.tabs a[data-view=tail]');
    await expect
      .poll(() => page.locator('.conn-state').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('live');
    await page.locator('li.tail-line').first().waitFor({ timeout: 60_000 });
    await page.click('button.pause');
    expect(await page.locator('.conn-state').getAttribute('data-state')).toBe('paused');
    await expect
      .poll(() => page.locator('.tail-counters').textContent(), { timeout: 30_000 })
      .toMatch(/[1-9][\d,]* waiting/);
    await page.click('button.pause');
    expect(await page.locator('.conn-state').getAttribute('data-state')).toBe('live');
    // Changing a filter reconnects and starts a fresh list: only ERROR lines from then on.
    await page.locator('.tail-form label.chip', { hasText: 'ERROR' }).locator('input').check();
    await page.locator('li.tail-line').first().waitFor({ timeout: 60_000 });
    const classes = await page.locator('li.tail-line').evaluateAll((lines) => lines.map((l) => l.className));
    expect(classes.every((c) => c.includes('lvl-error'))).toBe(true);
    await shot('tail');
  });

  it('shows a non-zero total, the per-level chart and the services on the dashboard', async () => {
    await page.click('nav.tabs a[data-view=dashboard]');
    const total = page.locator('[data-metric="Total logs"] .card-value');
    await waitFor(
      async () => {
        await page.click('.toolbar button:has-text("Refresh")');
        const text = (await total.textContent()) ?? '';
        return Number(text.replace(/,/g, '')) > 0;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'a non-zero total on the dashboard' },
    );
    await page.locator('.timeseries svg polyline').first().waitFor();
    expect(await page.locator('.services-table tbody tr').count()).toBeGreaterThan(0);
    // Every range of the seed, and intervals the API would refuse are disabled.
    const ranges = await page
      .locator('select[name=time_range] option')
      .evaluateAll((o) => o.map((x) => x.getAttribute('value')));
    expect(ranges).toEqual(['5m', '15m', '30m', '1h', '6h', '12h', '24h', '7d', '30d']);
    await page.selectOption('select[name=time_range]', '30d');
    expect(await page.locator('select[name=interval] option[value="1m"]').isDisabled()).toBe(true);
    await page.selectOption('select[name=time_range]', '1h');
    await page.locator('.services-table tbody tr.clickable').first().click();
    await page.locator('.service-detail:not(.hidden) h3').waitFor();
    await shot('dashboard');
  });

  it('creates, lists and deletes an alert rule, and shows history and silences', async () => {
    await page.click('nav.tabs a[data-view=alerts]');
    await page.click('button.new-rule');
    await page.fill('.rule-editor input[name=name]', 'UI test: many errors');
    await page.fill('.rule-editor input[name=threshold]', '1000000');
    await page.fill('.rule-editor input[name=window_seconds]', '60');
    await page.locator('.rule-editor label.chip', { hasText: 'ERROR' }).locator('input').check();
    await page.click('.rule-editor button[type=submit]');
    const row = page.locator('.alert-rules tbody tr', { hasText: 'UI test: many errors' });
    await row.waitFor();
    expect(await row.textContent()).toContain('ERROR');
    await page.locator('.alert-history h3').waitFor();
    await page.locator('.silences h3').waitFor();
    await row.locator('button.danger').click();
    await expect.poll(() => row.count()).toBe(0);
  });

  it('sees a rule fire, acknowledges the alert and silences the rule', async () => {
    await page.click('button.new-rule');
    await page.fill('.rule-editor input[name=name]', 'UI test: any error');
    await page.fill('.rule-editor input[name=threshold]', '1');
    await page.fill('.rule-editor input[name=window_seconds]', '60');
    await page.locator('.rule-editor label.chip', { hasText: 'ERROR' }).locator('input').check();
    await page.click('.rule-editor button[type=submit]');
    await page.locator('.alert-rules tbody tr', { hasText: 'UI test: any error' }).waitFor();

    const firing = page
      .locator('.alert-history tbody tr', { hasText: 'UI test: any error' })
      .filter({ has: page.locator('.status-firing') });
    await waitFor(
      async () => {
        await page.click('button.refresh-history');
        return firing.count();
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'a firing alert in the history' },
    );
    const id = await firing.first().getAttribute('data-id');
    await firing.first().locator('button', { hasText: 'Acknowledge' }).click();
    const acknowledged = page.locator(`.alert-history tbody tr[data-id="${id}"]`);
    await expect.poll(() => acknowledged.locator('.badge').first().textContent()).toBe('acknowledged');
    expect(await acknowledged.textContent()).toContain('admin');

    await page.selectOption('.silence-form select[name=rule_id]', { label: 'UI test: any error' });
    await page.fill('.silence-form input[name=comment]', 'UI test silence');
    await page.click('.silence-form button[type=submit]');
    const silence = page.locator('.silences tbody tr', { hasText: 'UI test silence' });
    await silence.waitFor();
    expect(await silence.locator('.badge').textContent()).toBe('active');
    await shot('alerts');
    await silence.locator('button', { hasText: 'Expire' }).click();
    await expect.poll(() => silence.count()).toBe(0);
  });

  it('shows the pipeline stages with records from /metrics', async () => {
    await page.click('nav.tabs a[data-view=pipeline]');
    const parse = page.locator('g.stage[data-stage=parse]');
    await parse.waitFor();
    await expect.poll(() => parse.getAttribute('data-state'), { timeout: 30_000 }).toBe('ok');
    const parseIn = await parse.locator('text.metric-in tspan.v').textContent();
    expect(Number(parseIn?.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await page.locator('g.stage').count()).toBe(8);
    await shot('pipeline');
  });

  it('signs out, and a revoked token leads back to the login form', async () => {
    await page.click('button:has-text("Sign out")');
    await page.locator('form.login-form').waitFor();
    // A token the server does not accept (as after a secret rotation or a deleted user).
    await page.evaluate(
      `sessionStorage.setItem('logflow.session', '{"token":"not.a.token","user":{"username":"x"}}')`,
    );
    await page.reload();
    await page.locator('form.login-form .notice').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('logflow.session')")).toBeNull();
    expect(await page.locator('nav.tabs').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
  it('shows a viewer the alerts without the admin controls', async () => {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const created = await fetch(`${base}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: 'ui-viewer', password: 'viewer-password-1', role: 'viewer' }),
    });
    expect(created.status).toBe(201);

    await page.fill('input[name=username]', 'ui-viewer');
    await page.fill('input[name=password]', 'viewer-password-1');
    await page.click('form.login-form button[type=submit]');
    expect(await page.locator('.role').textContent()).toBe('viewer');
    await page.click('nav.tabs a[data-view=alerts]');
    await page.locator('.alert-rules tbody tr', { hasText: 'UI test: any error' }).waitFor();
    expect(await page.locator('button.new-rule').count()).toBe(0);
    expect(await page.locator('.silence-form').count()).toBe(0);
    expect(await page.locator('.alert-rules button').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
