// The admin-management pages (admins, API tokens, audit log) in real
// headless Chromium against the real `calos` binary with demo data. Every
// test fails on any browser console error.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, launchBrowser, guard, login, shot, DEMO_ID } from './support.js';

describe('admin management pages', () => {
  let server;
  let chrome;
  let context;
  let page;
  let watch;

  before(async () => {
    server = await startServer();
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
    page = await context.newPage();
    watch = guard(page);
    await login(page, server.base, '/admin/admins');
  });

  after(async () => {
    if (chrome) await chrome.close();
    if (server) await server.stop();
  });

  beforeEach(() => { watch.problems.length = 0; });
  afterEach(() => { assert.deepEqual(watch.problems, [], 'browser reported errors'); });

  /** `GET /api/auth/me` with `secret` as a bearer token: its status. */
  async function meWith(secret) {
    const res = await page.request.get(server.base + '/api/auth/me', { headers: { Authorization: `Bearer ${secret}` } });
    return res.status();
  }

  it('shows the owner the management links', async () => {
    await page.goto(server.base + '/admin');
    await page.waitForSelector('.mainnav a[href="/admin/admins"]:not([hidden])');
    assert.ok(await page.isVisible('.mainnav a[href="/admin/tokens"]'), 'API tokens link');
    assert.ok(await page.isVisible('.mainnav a[href="/admin/audit"]'), 'audit log link');
  });

  it('creates an admin (password shown once), changes the role and disables it', async () => {
    await page.goto(server.base + '/admin/admins');
    await page.waitForSelector('#admins-table tr[data-username="admin"]');
    await page.click('#open-create-admin');
    await page.fill('#a-username', 'e2e-ops');
    await page.fill('#a-email', 'ops@e2e.example');
    await page.selectOption('#a-role', 'support');
    await page.click('#admin-create-submit');
    await page.waitForSelector('#password-dialog[open]');
    const password = await page.innerText('#new-password');
    assert.match(password, /^[A-Za-z0-9]{24}$/);
    assert.equal(await page.innerText('#password-user'), 'e2e-ops');
    await shot(page, 'admin-password-once');
    await Promise.all([page.waitForEvent('load'), page.click('#password-dialog button.primary')]);
    const row = page.locator('#admins-table tr[data-username="e2e-ops"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-role'), 'support');
    assert.ok(!(await page.content()).includes(password), 'the password is gone from the page');

    await row.locator('select.role-select').selectOption('sales');
    await page.waitForSelector('#admins-table tr[data-username="e2e-ops"][data-role="sales"]');

    await row.locator('[data-admin-action="disable"]').click();
    await page.waitForSelector('#admin-confirm-dialog[open]');
    assert.match(await page.innerText('#admin-confirm-text'), /e2e-ops/);
    await Promise.all([page.waitForEvent('load'), page.click('#admin-confirm-ok')]);
    await page.waitForSelector('#admins-table tr[data-username="e2e-ops"][data-disabled="true"]');
    await shot(page, 'admins');
  });

  it('creates an API token, shows its secret once, then revokes it', async () => {
    await page.goto(server.base + '/admin/tokens');
    await page.click('#open-create-token');
    await page.fill('#t-name', 'e2e token');
    await page.selectOption('#t-role', 'viewer');
    await page.selectOption('#t-expires', '30');
    await page.click('#token-create-submit');
    await page.waitForSelector('#token-secret-dialog[open]');
    const secret = await page.innerText('#new-token-secret');
    assert.match(secret, /^calos_at_[0-9a-f]{64}$/);
    await page.click('#copy-token');
    await page.waitForFunction(() => document.getElementById('copy-token').textContent === 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'copied to the clipboard');
    await shot(page, 'token-secret-once');
    assert.equal(await meWith(secret), 200, 'the token works');

    await Promise.all([page.waitForEvent('load'), page.click('#token-secret-dialog button.primary')]);
    const row = page.locator('#tokens-table tr[data-name="e2e token"]');
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'active');
    assert.match(await row.innerText(), /calos_at_[0-9a-f]{8}…/);
    assert.match(await row.innerText(), /viewer/);
    assert.ok(!(await page.content()).includes(secret), 'the secret is shown only once');

    await row.locator('[data-token-action="revoke"]').click();
    await page.waitForSelector('#token-revoke-dialog[open]');
    assert.match(await page.innerText('#token-revoke-text'), /e2e token/);
    await shot(page, 'token-revoke-confirm');
    await Promise.all([page.waitForEvent('load'), page.click('#token-revoke-ok')]);
    await page.waitForSelector('#tokens-table tr[data-name="e2e token"][data-status="revoked"]');
    assert.equal(await meWith(secret), 401, 'a revoked token stops working');
  });

  it('filters the audit log and exports the filter as CSV', async () => {
    await page.goto(server.base + '/admin/audit');
    await page.waitForSelector('#audit-table');
    await page.fill('#audit-filters input[name="actor"]', 'admin:admin');
    await page.fill('#audit-filters input[name="action"]', 'api_token');
    await Promise.all([page.waitForURL(/action=api_token/), page.press('#audit-filters input[name="action"]', 'Enter')]);
    const actions = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.auditAction));
    assert.deepEqual(actions, ['api_token.revoke', 'api_token.create'], 'newest first, only token actions');
    assert.equal(await page.inputValue('#audit-filters input[name="action"]'), 'api_token', 'the filter is kept');
    await shot(page, 'audit-filtered');

    await page.goto(`${server.base}/admin/audit?targetId=${DEMO_ID}`);
    await page.waitForSelector('#audit-table');
    const targets = await page.locator('#audit-table tbody tr td:nth-child(4)').allInnerTexts();
    assert.ok(targets.length >= 1 && targets.every((t) => t.includes(DEMO_ID)), targets.join('\n'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-audit-csv')]);
    const lines = readFileSync(await download.path(), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'id,at,actor,action,targetType,targetId,ip,before,after');
    assert.equal(lines.length, targets.length + 1, 'the CSV holds the same records');
    assert.ok(lines.slice(1).every((l) => l.includes(`,${DEMO_ID},`)), lines.join('\n'));

    await page.goto(server.base + '/admin/audit?action=no.such.action');
    assert.match(await page.innerText('#audit-results'), /No audit record matches this filter/);
  });
});
