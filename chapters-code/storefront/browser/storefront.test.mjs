// The storefront in a real browser: Debian's Chromium, driven by
// Playwright, against Bookshop as `cargo run -p bookshop` runs it (every
// service a process of its own, on ports of this run's own).
//
// Run by `cargo xtask test` after the Rust tests, which build the
// launcher; BOOKSHOP_BIN names it. Screenshots go to book/images/, where
// chapter 9 shows them.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const screenshots = join(root, 'book', 'images');
const bookshopBin =
  process.env.BOOKSHOP_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'bookshop');

// The flags this machine's Chromium needs: no sandbox (root), no GPU, and
// none of the background traffic a closed network refuses.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `child`'s stdout prints a line containing `text`. */
function waitForLine(child, text, seconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${text}" within ${seconds} s`)),
      seconds * 1000,
    );
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bookshop exited (${code}) before "${text}":\n${seen}`));
    });
  });
}

const unique = (name) => `${name}.${process.pid}.${Date.now()}`;
let bookshop;
let dataDir;
let shopUrl;
let browser;
const ports = {};

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'bookshop-browser-'));
  const names = ['REGISTRY', 'IDENTITY', 'GATEWAY', 'INVENTORY', 'PAYMENTS', 'CATALOG', 'ORDERS',
    'NOTIFICATIONS', 'STOREFRONT'];
  const env = {
    ...process.env,
    // Queues of this run's own, dropped by the broker a minute after it.
    NOTIFICATIONS_QUEUE: unique('browser.notifications'),
    INVENTORY_QUEUE: unique('browser.inventory'),
    NOTIFICATIONS_QUEUE_EXPIRES_MS: '60000',
    INVENTORY_QUEUE_EXPIRES_MS: '60000',
  };
  for (const name of names) {
    ports[name] = await freePort();
    env[`BOOKSHOP_${name}_PORT`] = String(ports[name]);
  }
  bookshop = spawn(bookshopBin, ['--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const banner = await waitForLine(bookshop, 'Press Ctrl-C', 90);
  shopUrl = banner.match(/Open the shop: (\S+)/)[1];
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (bookshop && bookshop.exitCode === null) {
    const exited = new Promise((resolve) => bookshop.once('exit', resolve));
    bookshop.kill('SIGINT');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

// ANCHOR: shopper
test('a shopper searches for "rust" and opens a book with its stock', async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.goto(shopUrl);
  assert.equal(await page.locator('h1').textContent(), 'Books');
  await page.screenshot({ path: join(screenshots, 'ch09-home.png') });

  await page.getByLabel('Search books').fill('rust');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=rust/);
  const titles = await page.locator('.books a').allTextContents();
  assert.ok(titles.includes('The Rust Programming Language'), titles.join(', '));
  assert.ok(!titles.includes('Domain-Driven Design'), titles.join(', '));

  await page.getByRole('link', { name: 'The Rust Programming Language' }).click();
  await page.waitForURL(/\/shop\/books\/\d+$/);
  assert.match(await page.locator('#stock').textContent(), /^In stock: \d+ left$/);
  await page.screenshot({ path: join(screenshots, 'ch09-book.png') });
  await page.close();
});
// ANCHOR_END: shopper

test('the pages work with the keyboard alone', async () => {
  const page = await browser.newPage();
  await page.goto(shopUrl);
  // Tab to the search field, whatever comes before it.
  for (let tabs = 0; tabs < 5; tabs += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'q')) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
  await page.keyboard.type('atomics');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=atomics/);
  // Tab to the first result and follow it.
  for (let tabs = 0; tabs < 10; tabs += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    if (focused === 'Rust Atomics and Locks') break;
  }
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/shop\/books\/\d+$/);
  assert.equal(await page.locator('h1').textContent(), 'Rust Atomics and Locks');
  await page.close();
});

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousAccessibilityProblems(page) {
  await page.addScriptTag({ content: axeSource });
  const results = await page.evaluate(() => window.axe.run());
  return results.violations
    .filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.id}: ${v.help}`);
}

test('axe finds no serious accessibility problem on any page', async () => {
  // The page's own policy forbids inline scripts, axe's too: a context
  // that bypasses the policy lets the checker in.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  for (const path of ['', '?q=rust', '/books/1', '/no-such-page', '/sign-in', '/sign-up', '/cart']) {
    const response = await page.goto(`${shopUrl}${path}`);
    const policy = response.headers()['content-security-policy'];
    assert.match(policy, /default-src 'none'/, path);
    assert.deepEqual(await seriousAccessibilityProblems(page), [], `page ${path || '/'}`);
  }
  await context.close();
});

test('a script injected into a page is refused by its policy', async () => {
  const page = await browser.newPage();
  const refused = [];
  page.on('console', (message) => refused.push(message.text()));
  await page.goto(`${shopUrl}/books/1`);
  // What an attacker's markup would try: an inline script.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'document.title = "owned"';
    document.body.append(script);
  });
  assert.notEqual(await page.title(), 'owned');
  assert.ok(refused.some((text) => text.includes('Content Security Policy')), refused.join('\n'));
  await page.close();
});

test('with inventory gone, a book page still renders and says stock is unknown', async () => {
  // A second storefront, beside the launcher's, whose inventory is a port
  // nobody listens on (stopping the launcher's inventory would stop the
  // launcher). It registers nowhere: its registry is not there either.
  const port = await freePort();
  const storefront = spawn(
    bookshopBin,
    ['service', 'storefront', '--listen', `127.0.0.1:${port}`,
      '--catalog-url', `http://127.0.0.1:${ports.CATALOG}`,
      '--inventory-url', `http://127.0.0.1:${await freePort()}`,
      '--registry-url', `http://127.0.0.1:${await freePort()}`],
    { env: { ...process.env, REGISTRY_TOKEN: 'unused', RUST_LOG: 'warn' }, stdio: 'ignore' },
  );
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    let response;
    for (let attempt = 0; attempt < 50 && !response; attempt += 1) {
      response = await page.goto(`http://127.0.0.1:${port}/shop/books/1`).catch(() => undefined);
      if (!response) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('h1').textContent(), 'The Rust Programming Language');
    assert.match(await page.locator('#stock').textContent(), /^Stock unknown right now/);
    await page.screenshot({ path: join(screenshots, 'ch09-book-degraded.png') });
    await page.close();
  } finally {
    storefront.kill('SIGINT');
  }
});

/** Presses Tab until the focused element satisfies `wanted` (at most 30 times). */
async function tabTo(page, description, wanted) {
  for (let tabs = 0; tabs < 30; tabs += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      return { id: el?.id ?? '', text: (el?.textContent ?? '').trim(), tag: el?.tagName ?? '' };
    });
    if (wanted(focused)) return;
  }
  assert.fail(`Tab never reached ${description}`);
}

let adaOrderUrl;

// ANCHOR: journey
test('a shopper signs in, orders two books, and watches the order confirmed live', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${shopUrl}/sign-in`);
  await page.getByLabel('Username').fill('demo');
  await page.getByLabel('Password').fill('bookshop-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/shop$/);
  assert.match(await page.locator('.who').textContent(), /Signed in as demo/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'bookshop_session');
  assert.ok(session.httpOnly && session.sameSite === 'Lax', JSON.stringify(session));
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by a script');

  for (const title of ['The Rust Programming Language', 'Rust Atomics and Locks']) {
    await page.getByLabel('Search books').fill('rust');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: title }).click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.waitForURL(/\/shop\/cart$/);
  }
  assert.equal(await page.locator('.cart tbody tr').count(), 2);
  await page.screenshot({ path: join(screenshots, 'ch09-cart.png') });

  // The live updates arrive as server-sent events through the gateway.
  const stream = page.waitForResponse((r) => /\/shop\/orders\/\d+\/events$/.test(r.url()));
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/shop\/orders\/\d+$/);
  adaOrderUrl = page.url();
  const events = await stream;
  assert.equal(events.status(), 200);
  assert.match(events.headers()['content-type'], /text\/event-stream/);
  await page.locator('#status', { hasText: 'Confirmed' }).waitFor();
  await page.locator('#notifications li', { hasText: 'is confirmed and paid' }).waitFor();
  await page.screenshot({ path: join(screenshots, 'ch09-order.png') });
  await context.close();
});
// ANCHOR_END: journey

test("a second shopper gets a 404 for the first shopper's order", async () => {
  assert.ok(adaOrderUrl, 'the journey placed an order');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${shopUrl}/sign-up`);
  await page.getByLabel('Username').fill(`grace${process.pid}`);
  await page.getByLabel('Password').fill('a-long-password-2');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.waitForURL(/\/shop$/);
  const response = await page.goto(adaOrderUrl);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').textContent(), 'Not found');
  await page.goto(`${shopUrl}/orders`);
  assert.match(await page.locator('main').textContent(), /No orders yet/);
  await context.close();
});

test('checkout works with the keyboard alone, and its pages pass axe', async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${shopUrl}/sign-up`);
  await tabTo(page, 'the username field', (f) => f.id === 'username');
  await page.keyboard.type(`kbd${process.pid}`);
  await page.keyboard.press('Tab');
  await page.keyboard.type('a-long-password-3');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/shop$/);

  await page.goto(`${shopUrl}/books/1`);
  await tabTo(page, 'Add to cart', (f) => f.text === 'Add to cart');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/shop\/cart$/);
  assert.deepEqual(await seriousAccessibilityProblems(page), [], 'the cart');
  await tabTo(page, 'Place order', (f) => f.text === 'Place order');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/shop\/orders\/\d+$/);
  await page.locator('#status', { hasText: 'Confirmed' }).waitFor();
  assert.deepEqual(await seriousAccessibilityProblems(page), [], 'the order');
  await context.close();
});
