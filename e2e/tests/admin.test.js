// The admin pages in real headless Chromium against the real `calos` binary
// with demo data. Every test fails on any browser console error.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launchBrowser, guard, login, shot, DEMO_ID } from './support.js';

const XSS_NAME = '<img src=x onerror=alert(1)>';

describe('admin pages', () => {
  let server;
  let chrome;
  let context;
  let page;
  let watch;

  before(async () => {
    server = await startServer();
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    watch = guard(page);
    await login(page, server.base);
  });

  after(async () => {
    if (chrome) await chrome.close();
    if (server) await server.stop();
  });

  beforeEach(() => { watch.problems.length = 0; });
  afterEach(() => { assert.deepEqual(watch.problems, [], 'browser reported errors'); });

  async function dashboard(query = '') {
    await page.goto(server.base + '/enterprise-dashboard.html' + query);
    await page.waitForSelector('#customers-results');
  }

  async function createViaApi(body) {
    const csrf = await page.getAttribute('meta[name="csrf-token"]', 'content');
    const res = await page.request.post(server.base + '/api/enterprise/create-license', {
      data: body,
      headers: { 'X-CSRF-Token': csrf },
    });
    assert.equal(res.status(), 201, await res.text());
    return res.json();
  }

  it('logs in and shows the demo customer with real figures', async () => {
    await dashboard();
    const row = page.locator(`#customers-table tr[data-install-id="${DEMO_ID}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Demo Corp/);
    for (const id of ['customers', 'active', 'trials', 'mrr', 'arr', 'conversion']) {
      assert.ok(await page.isVisible(`#stat-${id}`), `stat card ${id}`);
    }
    assert.match(await page.innerText('#stat-mrr .stat-value'), /^\$[\d,]+\.\d\d$/);
    assert.doesNotMatch(await page.innerText('.cards'), /this month|vs last month/);
    const usage = await row.locator('td.usage').innerText();
    assert.match(usage, /\d+ \/ 10,000/, 'API usage against the pro limit');
    const chart = await page.locator('picture.chart img').evaluate((img) => img.complete && img.naturalWidth > 0);
    assert.ok(chart, 'revenue chart loaded');
    await shot(page, 'dashboard');
  });

  it('filters the table live and keeps the filter in the URL', async () => {
    await dashboard();
    await page.fill('#filters input[name="q"]', 'Demo Corp');
    await page.waitForFunction(() => document.querySelectorAll('#customers-table tbody tr').length === 1);
    assert.match(await page.innerText('#customers-table tbody'), /Demo Corp/);
    assert.match(page.url(), /q=Demo\+Corp|q=Demo%20Corp/);
    await page.fill('#filters input[name="q"]', '');
    await page.selectOption('#filters select[name="status"]', 'trial');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#customers-table tbody tr')];
      return rows.length > 0 && rows.every((r) => r.dataset.status === 'trial');
    });
    await page.fill('#filters input[name="q"]', 'no-such-customer-anywhere');
    await page.waitForSelector('#customers-results .state.empty');
    await shot(page, 'dashboard-filtered-empty');
  });

  it('exports the current filter as CSV', async () => {
    await dashboard('?q=Demo+Corp');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.trim().split('\n');
    assert.match(lines[0], /^installId,name,email/);
    assert.equal(lines.length, 2, text);
    assert.match(lines[1], new RegExp(`^${DEMO_ID},Demo Corp,`));
  });

  it('creates a license, shows its key once, then revokes it', async () => {
    await dashboard();
    await page.click('#open-create');
    await page.fill('#c-name', 'Browser Test GmbH');
    await page.fill('#c-email', 'ops@browser-test.example');
    await page.fill('#c-company', 'Browser Test');
    await page.selectOption('#c-tier', 'enterprise');
    await page.selectOption('#c-billing', 'annual');
    await page.fill('#c-domains', 'app.browser-test.example');
    await page.fill('#c-notes', 'made by the e2e test');
    await page.click('#create-submit');
    await page.waitForSelector('#key-dialog[open]');
    const key = await page.innerText('#new-license-key');
    const installId = await page.innerText('#new-install-id');
    assert.match(key, /^calos_lk_[0-9a-f]{64}$/);
    const config = await page.innerText('#new-config');
    assert.match(config, new RegExp(`CALOS_INSTALL_ID=${installId}`));
    assert.match(config, new RegExp(`CALOS_LICENSE_KEY=${key}`));
    assert.match(config, /CALOS_SERVER=http:\/\/127\.0\.0\.1:\d+/);
    await shot(page, 'create-license-key');
    await page.click('#key-dialog button.primary');
    // The dialog's close event fires as a task after the click: wait for it.
    await page.waitForFunction(() => !document.querySelector('#key-dialog[open]'));
    await page.waitForFunction(() => document.getElementById('new-license-key').textContent === '', null, { timeout: 5000 });
    assert.equal(await page.innerText('#new-license-key'), '', 'key gone after closing');

    await page.fill('#filters input[name="q"]', 'Browser Test GmbH');
    const row = page.locator(`#customers-table tr[data-install-id="${installId}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'active');
    await row.locator('[data-action="revoke"]').click();
    await page.waitForSelector('#confirm-dialog[open]');
    assert.match(await page.innerText('#confirm-text'), /Browser Test GmbH/);
    await page.fill('#confirm-reason', 'e2e');
    await shot(page, 'revoke-confirm');
    await page.click('#confirm-ok');
    await page.waitForSelector(`#customers-table tr[data-install-id="${installId}"][data-status="revoked"]`);
    assert.match(await page.locator(`tr[data-install-id="${installId}"] .badge.status-revoked`).innerText(), /revoked/);
  });

  it('shows a hostile customer name as text and runs nothing', async () => {
    let dialogs = 0;
    page.on('dialog', (d) => { dialogs += 1; d.dismiss().catch(() => {}); });
    const made = await createViaApi({
      customer: { name: XSS_NAME, email: 'xss@evil.example', company: '"><script>alert(2)</script>' },
      tier: 'pro',
    });
    await dashboard('?q=evil.example');
    const row = page.locator(`#customers-table tr[data-install-id="${made.installId}"]`);
    await row.waitFor();
    assert.equal(await row.locator('a.name').innerText(), XSS_NAME);
    assert.equal(await page.locator('#customers-table img').count(), 0, 'no img element was created');
    await page.goto(`${server.base}/admin/customers/${made.installId}`);
    assert.equal(await page.innerText('#customer-name'), XSS_NAME);
    await page.waitForTimeout(300);
    assert.equal(dialogs, 0, 'no alert fired');
    await shot(page, 'xss-profile');
  });

  it('opens the culture profile of the demo customer', async () => {
    await page.goto(`${server.base}/culture-profile.html?install_id=${DEMO_ID}`);
    assert.equal(await page.innerText('#customer-name'), 'Demo Corp');
    await page.waitForSelector('#culture[aria-busy="false"]');
    assert.ok(await page.isVisible('#culture-body'), 'the culture analysis is shown');
    assert.match(await page.innerText('#health-score'), /^\d+$/);
    assert.ok(await page.locator('#health-components li').count() >= 1, 'health components');
    const upsell = page.locator('#upsells .upsell').first();
    assert.match(await upsell.innerText(), /high|medium|low/i, 'an upsell card with its priority');
    for (const img of await page.locator('picture.chart img').all()) {
      assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), 'chart loaded');
    }
    assert.ok(await page.locator('#history tbody tr').count() >= 1, 'license history');
    await shot(page, 'culture-profile');
  });

  it('offers a customer picker without install_id', async () => {
    await page.goto(`${server.base}/culture-profile.html`);
    await page.waitForSelector('.picker');
    await page.fill('input[name="q"]', 'Demo');
    await Promise.all([page.waitForURL(/q=Demo/), page.press('input[name="q"]', 'Enter')]);
    await shot(page, 'customer-picker');
    await Promise.all([page.waitForURL(/install_id=/), page.click(`a[href*="${DEMO_ID}"]`)]);
    assert.equal(await page.innerText('#customer-name'), 'Demo Corp');
  });

  it('looks right on a tablet and in dark mode', async () => {
    const tablet = await chrome.browser.newContext({ viewport: { width: 820, height: 1180 }, colorScheme: 'dark', storageState: await context.storageState() });
    const p = await tablet.newPage();
    const w = guard(p);
    await p.goto(server.base + '/admin');
    await p.waitForSelector('#customers-table');
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page wider than the tablet by ${overflow}px`);
    await shot(p, 'dashboard-tablet-dark');
    await p.goto(`${server.base}/admin/customers/${DEMO_ID}`);
    await p.waitForSelector('#culture[aria-busy="false"]');
    await shot(p, 'culture-profile-tablet-dark');
    await tablet.close();
    assert.deepEqual(w.problems, []);
  });

  it('sends an expired session to login and back', async () => {
    watch.allow((text, url) => /401/.test(text) && /\/admin\/fragments\/customers/.test(url));
    await dashboard();
    await context.clearCookies();
    await page.fill('#filters input[name="q"]', 'Demo');
    await page.waitForURL(/\/login\?next=/);
    assert.match(decodeURIComponent(page.url()), /next=\/enterprise-dashboard\.html\?q=Demo/);
    await shot(page, 'login');
    await page.fill('#username', 'admin');
    await page.fill('#password', (await import('./support.js')).PASSWORD);
    await Promise.all([page.waitForURL(/enterprise-dashboard\.html\?q=Demo/), page.click('button[type="submit"]')]);
    await page.waitForSelector('#customers-table');
  });

  it('logs out', async () => {
    await dashboard();
    await Promise.all([page.waitForURL(/\/login\?loggedOut=1/), page.click('.who button[type="submit"]')]);
    assert.match(await page.innerText('main'), /You are logged out/);
    await page.goto(server.base + '/admin');
    await page.waitForURL(/\/login\?next=%2Fadmin/);
  });
});
