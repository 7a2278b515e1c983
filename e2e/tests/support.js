// Test support: a fresh `calos` server with demo data on a temp SQLite file,
// Debian's Chromium driven by playwright-core, and a console-error guard.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
export const screenshots = join(root, 'target', 'screenshots');
export const PASSWORD = 'e2e-password-correct-horse';
export const DEMO_ID = 'demo-install-abc123456789abcdef';

function binary() {
  const wanted = process.env.CALOS_BIN || join(root, 'target', 'debug', 'calos');
  if (!existsSync(wanted)) throw new Error(`calos binary not found at ${wanted}: run cargo build --bin calos first`);
  return wanted;
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(base, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`calos serve exited with ${child.exitCode}`);
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) return;
    } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('calos serve did not become healthy within 30 s');
}

/** Starts `calos setup --demo` then `calos serve` on a free port. */
export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'calos-e2e-'));
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, 'calos.db')}`,
    CALOS_DATA_DIR: dir,
    CALOS_ADMIN_PASSWORD: PASSWORD,
    RUST_LOG: 'warn',
  };
  const bin = binary();
  const setup = spawnSync(bin, ['setup', '--demo'], { env, encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`calos setup --demo failed:\n${setup.stdout}\n${setup.stderr}`);
  const port = await freePort();
  const child = spawn(bin, ['serve', '--port', String(port), '--bind', '127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log = (log + d).slice(-20_000); });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, child);
  return {
    base,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium, headless; never a downloaded browser. playwright-core
 * gives every launch a fresh temporary profile (it refuses an explicit
 * --user-data-dir with launch()), so no state leaks between runs.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  mkdirSync(screenshots, { recursive: true });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/**
 * Records console errors and page errors. `allow` lists predicates for the
 * few expected ones (a 401 the test provokes on purpose).
 */
export function guard(page) {
  const problems = [];
  const allowed = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location() ? m.location().url : '';
    if (allowed.some((f) => f(m.text(), url))) return;
    problems.push(`console error: ${m.text()} ${url}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return {
    problems,
    allow(fn) { allowed.push(fn); },
  };
}

export async function login(page, base, next = '/admin') {
  await page.goto(base + next);
  await page.waitForURL(/\/login\?next=/);
  await page.fill('#username', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.click('button[type="submit"]'),
  ]);
}

export function shot(page, name) {
  return page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}
