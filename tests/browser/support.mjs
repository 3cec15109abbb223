// Shared by the browser tests: one headless Debian chromium per test file, `kasse demo` per
// test on a fresh SQLite database, page helpers, screenshots and the axe-core check.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const KASSE_BIN = process.env.KASSE_BIN || resolve(here, '../../target/debug/kasse');
// Built by `cargo test` / `cargo build --examples` next to the kasse binary.
const STRIPE_DOUBLE_BIN = process.env.STRIPE_DOUBLE_BIN || join(dirname(KASSE_BIN), 'examples', 'stripe_double');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(here, 'screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// Every WCAG 2.x level A and AA rule axe has.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const SERVER_START_MS = 60_000;
const SERVER_STOP_MS = 10_000;
const STEP_MS = 15_000; // any single browser action or wait
export const TEST_MS = 120_000;

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

/**
 * Start `kasse demo` on a fresh database; resolves to the URLs it printed ({checkout, link, contract, invoice}),
 * the demo company's API key and id ({api: {key, company}}), the database URL (for the CLI) and a stop function.
 * `env` is added to the environment (e.g. the STRIPE_* settings); Stripe settings the caller did not give are
 * removed, so an outer environment cannot move the sandbox tests to Stripe.
 */
export async function startDemo(t, { env: extraEnv = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-browser-'));
  const databaseUrl = `sqlite://${join(dir, 'kasse.db')}`;
  const env = { ...process.env };
  delete env.KASSE_PUBLIC_URL; // the URL must be the one this process listens on
  delete env.DATABASE_URL;
  delete env.KASSE_MODE;
  for (const name of Object.keys(env)) if (name.startsWith('STRIPE_')) delete env[name];
  Object.assign(env, extraEnv);
  const child = spawn(KASSE_BIN, ['demo', '--bind', '127.0.0.1:0', '--database-url', databaseUrl], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

  const urls = await new Promise((done, fail) => {
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
      const printed = (label) => stdout.match(new RegExp(`^\\s*${label}:\\s+(http:\\/\\/127\\.0\\.0\\.1:\\d+\\/\\S+)\\s*$`, 'm'))?.[1];
      const urls = {
        checkout: printed('Checkout'),
        link: printed('Link'),
        contract: printed('Contract'),
        invoice: printed('Invoice'),
      };
      // The demo company's API, for tests that change what a page shows (void an invoice).
      const line = (label) => stdout.match(new RegExp(`^\\s*${label}:\\s+(\\S+)\\s*$`, 'm'))?.[1];
      urls.api = { key: line('API key'), company: line('Company') };
      if (urls.checkout && urls.contract) done(urls);
      else fail(new Error(`no Checkout or Contract URL in the demo's output:\n${stdout}`));
    });
  });
  return { ...urls, url: urls.checkout, databaseUrl, stop, log: () => stderr };
}

/** Run the kasse CLI (e.g. `company set-provider …`) to completion; resolves to its stdout, fails on a non-zero exit. */
export function runKasse(args) {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  return new Promise((done, fail) => {
    execFile(KASSE_BIN, args, { env, timeout: SERVER_START_MS }, (error, stdout, stderr) => {
      if (error) fail(new Error(`kasse ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else done(stdout);
    });
  });
}

/**
 * Start the Stripe double (examples/stripe_double.rs: Stripe's API, Stripe.js and the Payment Element frame on
 * 127.0.0.1); resolves to {url, log} (log: the API requests it received, one a line). Killed when the test ends.
 */
export async function startStripeDouble(t) {
  assert.ok(
    existsSync(STRIPE_DOUBLE_BIN),
    `the Stripe double is not built at ${STRIPE_DOUBLE_BIN}: run cargo test (or cargo build --examples)`,
  );
  const child = spawn(STRIPE_DOUBLE_BIN, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`the Stripe double printed no URL within ${SERVER_START_MS} ms\n${stdout}\n${stderr}`)),
      SERVER_START_MS,
    );
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`the Stripe double exited early (code ${code}, signal ${signal})\n${stdout}\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (s) => {
      stdout += s;
      const found = stdout.match(/^Stripe double: (http:\/\/127\.0\.0\.1:\d+)\s*$/m)?.[1];
      if (!found) return;
      clearTimeout(timer);
      done(found);
    });
  });
  return { url, log: () => stderr };
}

/** A fresh browser context and page; closed when the test ends. Page errors and CSP violations are collected. */
export async function openPage(t, { width, height, javaScriptEnabled = true }) {
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
  // And the documents' own violation events, in every frame: they name the directive and the refused source and
  // do not depend on Chromium's console wording. Injected by the browser, so the pages' CSP does not apply.
  await context.exposeBinding('__kasseCspViolation', ({ frame }, v) =>
    problems.push(`CSP violation in ${frame.url()}: ${v.directive} refused ${v.blocked}`),
  );
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__kasseCspViolation({ directive: e.effectiveDirective, blocked: e.blockedURI }),
    );
  });
  return { page, problems };
}

/**
 * Fill the checkout page's contact and billing fields with `customer` ({email, name, company?, country,
 * line1, postalCode, city}); the optional company only when given.
 */
export async function fillCustomer(page, customer) {
  await page.getByLabel('Email').fill(customer.email);
  await page.getByLabel('Full name').fill(customer.name);
  if (customer.company) await page.getByLabel('Company (optional)').fill(customer.company);
  await page.getByLabel('Country').selectOption({ label: customer.country });
  await page.getByLabel('Address line 1').fill(customer.line1);
  await page.getByLabel('Postal code').fill(customer.postalCode);
  await page.getByLabel('City').fill(customer.city);
}

/** Press a submit button and wait for the page the server answers with. */
export async function submitWith(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

export async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/**
 * Run axe (WCAG 2 A/AA) on the page and fail on any serious or critical violation.
 * The pages' Content-Security-Policy refuses inline scripts (page.addScriptTag({content}) is
 * blocked, rightly), so axe's source is evaluated through the DevTools protocol instead, with
 * the page's own CSP left in force.
 */
export async function assertAccessible(t, page, label) {
  // Each frame on its own, the page first: axe's own frame messaging answers only its origin, and a payment
  // provider's frame (Stripe's Payment Element) comes from another; it is part of what the customer uses.
  const violations = [];
  for (const frame of page.frames()) {
    await frame.evaluate(AXE_SOURCE);
    const found = await frame.evaluate(
      (tags) =>
        window.axe.run(document, { iframes: false, runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
      AXE_TAGS,
    );
    const where = frame === page.mainFrame() ? '' : ` (in the frame ${frame.url()})`;
    violations.push(...found.violations.map((v) => ({ ...v, help: v.help + where })));
  }
  const describe = (v) =>
    `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
    v.nodes.map((n) => `      ${n.target.join(' ')}\n        ${n.html}\n        ${(n.failureSummary || '').replace(/\n/g, '\n        ')}`).join('\n');
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) t.diagnostic(`axe, ${label}: minor/moderate findings:\n${minor.map(describe).join('\n')}`);
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.equal(grave.length, 0, `axe, ${label}: serious or critical violations:\n${grave.map(describe).join('\n')}`);
  const frames = page.frames().length;
  t.diagnostic(
    `axe, ${label}: no serious or critical violations (${violations.length} finding(s) in all, ${frames} frame(s))`,
  );
}

