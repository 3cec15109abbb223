// Real-browser tests of the hosted checkout: Debian's chromium driven by playwright-core,
// accessibility checked with axe-core. Each test starts its own `kasse demo` on a fresh SQLite
// database (every run seeds the demo merchant and prints a new checkout URL) and stops it
// with SIGTERM at the end, pass or fail.
//
//   KASSE_BIN=$PWD/target/debug/kasse node --test tests/browser/
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const KASSE_BIN = process.env.KASSE_BIN || resolve(here, '../../target/debug/kasse');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(here, 'screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// Every WCAG 2.x level A and AA rule axe has.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const SERVER_START_MS = 60_000;
const SERVER_STOP_MS = 10_000;
const STEP_MS = 15_000; // any single browser action or wait
const TEST_MS = 120_000;

// What the demo sells (src/demo.rs): the Team plan's seats at $15.00 each for the first ten
// (5 seats to start, the customer may choose 1 to 100) plus a one-time $499.00 onboarding
// session; LAUNCH20 takes 20% off.
const DUE_AT_5_SEATS = '$574.00'; // 5 × $15.00 + $499.00
const DUE_AT_7_SEATS = '$604.00'; // 7 × $15.00 + $499.00
const SEATS_AT_7 = '$105.00';
const DISCOUNT_AT_7 = '−$120.80'; // 20% of $604.00
const DUE_WITH_PROMO = '$483.20'; // $604.00 − $120.80
const CONFIRMATION_MESSAGE = 'Welcome to Acme Analytics! Your workspace is ready.';

const CUSTOMER = {
  email: 'grace@hopper.example',
  name: 'Grace Hopper',
  company: 'Hopper Labs',
  country: 'United States',
  line1: '1 Market Street',
  postalCode: '94103',
  city: 'San Francisco',
};
const CARD_OK = '4242 4242 4242 4242';
const CARD_DECLINE = '4000 0000 0000 0002';
const CARD_CHALLENGE = '4000 0027 6000 3184';

let browser;

before(async () => {
  assert.ok(existsSync(KASSE_BIN), `kasse binary not found at ${KASSE_BIN}: run cargo build or set KASSE_BIN`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install -y chromium`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
});

after(async () => {
  await browser?.close();
});

/** Start `kasse demo` on a fresh database; resolves to its checkout URL and a stop function. */
async function startDemo(t) {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-browser-'));
  const env = { ...process.env };
  delete env.KASSE_PUBLIC_URL; // the URL must be the one this process listens on
  delete env.DATABASE_URL;
  const child = spawn(
    KASSE_BIN,
    ['demo', '--bind', '127.0.0.1:0', '--database-url', `sqlite://${join(dir, 'kasse.db')}`],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = new Promise((done) => setTimeout(() => done('timeout'), SERVER_STOP_MS).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        t.diagnostic(`kasse did not stop within ${SERVER_STOP_MS} ms of SIGTERM: killed`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);

  const url = await new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`kasse demo printed no "Stop with Ctrl-C." within ${SERVER_START_MS} ms\n${stdout}\n${stderr}`)),
      SERVER_START_MS,
    );
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`kasse demo exited early (code ${code}, signal ${signal})\n${stdout}\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (s) => {
      stdout += s;
      if (!/Stop with Ctrl-C\./.test(stdout)) return;
      clearTimeout(timer);
      const m = stdout.match(/^\s*Checkout:\s+(http:\/\/127\.0\.0\.1:\d+\/checkout\/\S+)\s*$/m);
      if (m) done(m[1]);
      else fail(new Error(`no Checkout URL in the demo's output:\n${stdout}`));
    });
  });
  return { url, stop };
}

/** A fresh browser context and page; closed when the test ends. Page errors and CSP violations are collected. */
async function openPage(t, { width, height, javaScriptEnabled = true }) {
  const context = await browser.newContext({ viewport: { width, height }, javaScriptEnabled });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return { page, problems };
}

/** Press a submit button and wait for the page the server answers with. */
async function submitWith(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/**
 * Run axe (WCAG 2 A/AA) on the page and fail on any serious or critical violation.
 * The pages' Content-Security-Policy refuses inline scripts (page.addScriptTag({content}) is
 * blocked, rightly), so axe's source is evaluated through the DevTools protocol instead, with
 * the page's own CSP left in force.
 */
async function assertAccessible(t, page, label) {
  await page.evaluate(AXE_SOURCE);
  const { violations } = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  const describe = (v) =>
    `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
    v.nodes.map((n) => `      ${n.target.join(' ')}\n        ${n.html}\n        ${(n.failureSummary || '').replace(/\n/g, '\n        ')}`).join('\n');
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) t.diagnostic(`axe, ${label}: minor/moderate findings:\n${minor.map(describe).join('\n')}`);
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.equal(grave.length, 0, `axe, ${label}: serious or critical violations:\n${grave.map(describe).join('\n')}`);
  t.diagnostic(`axe, ${label}: no serious or critical violations (${violations.length} finding(s) in all)`);
}

function payButton(page) {
  return page.getByRole('button', { name: /^Pay / });
}

async function fillCustomer(page) {
  await page.getByLabel('Email').fill(CUSTOMER.email);
  await page.getByLabel('Full name').fill(CUSTOMER.name);
  await page.getByLabel('Company (optional)').fill(CUSTOMER.company);
  await page.getByLabel('Country').selectOption({ label: CUSTOMER.country });
  await page.getByLabel('Address line 1').fill(CUSTOMER.line1);
  await page.getByLabel('Postal code').fill(CUSTOMER.postalCode);
  await page.getByLabel('City').fill(CUSTOMER.city);
}

async function fillCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByLabel('Security code').fill('123');
}

async function assertConfirmation(page) {
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Thank you!');
  assert.equal(await text(page.locator('main .lead')), CONFIRMATION_MESSAGE);
  assert.equal(await page.getByRole('button', { name: /^Pay / }).count(), 0, 'the confirmation offers no second payment');
}

for (const [width, height] of [
  [390, 844],
  [1280, 900],
]) {
  test(`the checkout page at ${width}×${height}: screenshot and no serious axe violations`, { timeout: TEST_MS }, async (t) => {
    const { url } = await startDemo(t);
    const { page, problems } = await openPage(t, { width, height });
    const response = await page.goto(url, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Checkout · Acme Analytics');
    assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Checkout');
    assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_5_SEATS}`);
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_SEATS}`);
    // Nothing runs off the side of the page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the ${width}px viewport`);
    await screenshot(page, `checkout-${width}.png`);
    await assertAccessible(t, page, `checkout at ${width}`);
    assert.deepEqual(problems, []);
  });
}

test('a customer changes seats, applies LAUNCH20, is declined once, then pays (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { url } = await startDemo(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await page.goto(url, { waitUntil: 'load' });
  const total = page.locator('.summary .total');
  assert.equal(await text(total), `Due today ${DUE_AT_5_SEATS}`);

  // Seats 5 → 7.
  const seats = page.getByLabel('Quantity');
  assert.equal(await seats.inputValue(), '5');
  await seats.fill('7');
  await submitWith(page, page.getByRole('button', { name: 'Update' }));
  assert.equal(await page.getByLabel('Quantity').inputValue(), '7');
  assert.equal(await text(page.locator('.line', { hasText: 'Seats' }).locator('.line-amount')), SEATS_AT_7);
  assert.equal(await text(total), `Due today ${DUE_AT_7_SEATS}`);
  assert.equal(await text(payButton(page)), `Pay ${DUE_AT_7_SEATS}`);

  // LAUNCH20: a discount line appears and the total drops by it.
  assert.equal(await page.locator('.summary .discount').count(), 0);
  await page.getByLabel('Promo code').fill('LAUNCH20');
  await submitWith(page, page.getByRole('button', { name: 'Apply' }));
  assert.equal(await text(page.locator('.promo-applied')), 'Promo code applied: LAUNCH20 Remove');
  const discount = page.locator('.summary .discount');
  assert.equal(await discount.count(), 1, 'one discount line in the summary');
  assert.equal(await text(discount), `Launch: 20% off for 3 months ${DISCOUNT_AT_7}`);
  assert.equal(await text(total), `Due today ${DUE_WITH_PROMO}`);
  assert.equal(await text(payButton(page)), `Pay ${DUE_WITH_PROMO}`);

  // Contact and address, then the decline card.
  await fillCustomer(page);
  await fillCard(page, CARD_DECLINE);
  await submitWith(page, payButton(page));
  const alert = page.locator('#payment-alert');
  assert.equal(await text(alert), 'Your card was declined. Try another card.');
  assert.equal(await alert.getAttribute('role'), 'alert');
  // Everything typed is still there, except the security code, which is asked for again.
  assert.equal(await page.getByLabel('Email').inputValue(), CUSTOMER.email);
  assert.equal(await page.getByLabel('Full name').inputValue(), CUSTOMER.name);
  assert.equal(await page.getByLabel('Postal code').inputValue(), CUSTOMER.postalCode);
  assert.equal(await page.getByLabel('Country').inputValue(), 'US');
  assert.equal(await page.getByLabel('Quantity').inputValue(), '7');
  assert.equal(await text(page.locator('.promo-applied strong')), 'LAUNCH20');
  assert.equal(await text(total), `Due today ${DUE_WITH_PROMO}`);
  assert.equal(await page.getByLabel('Security code').inputValue(), '');
  await screenshot(page, 'declined-390.png');
  await assertAccessible(t, page, 'checkout after a decline at 390');

  // The good card.
  await fillCard(page, CARD_OK);
  await submitWith(page, payButton(page));
  await assertConfirmation(page);
  await screenshot(page, 'confirmation-390.png');
  await assertAccessible(t, page, 'confirmation at 390');
  assert.deepEqual(problems, []);
});

test('the challenge card asks the bank, Approve completes the payment (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { url } = await startDemo(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await page.goto(url, { waitUntil: 'load' });
  await fillCustomer(page);
  await fillCard(page, CARD_CHALLENGE);
  await submitWith(page, payButton(page));
  assert.match(page.url(), /\/checkout\/[^/]+\/challenge\//);
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Confirm your payment');
  assert.equal(await text(page.locator('.challenge .amount')), DUE_AT_5_SEATS);
  await screenshot(page, 'challenge-390.png');
  await assertAccessible(t, page, 'challenge at 390');
  await submitWith(page, page.getByRole('button', { name: 'Approve' }));
  await assertConfirmation(page);
  assert.deepEqual(problems, []);
});

test('without JavaScript the checkout still pays with 4242 (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { url } = await startDemo(t);
  const { page } = await openPage(t, { width: 390, height: 844, javaScriptEnabled: false });
  await page.goto(url, { waitUntil: 'load' });
  assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_SEATS}`);
  await fillCustomer(page);
  await fillCard(page, CARD_OK);
  await submitWith(page, payButton(page));
  await assertConfirmation(page);
});
