// Real-browser tests of the Stripe payment step: the demo company switched to Stripe, pointed
// at the Stripe double (examples/stripe_double.rs: Stripe's API, a stand-in for Stripe.js and
// its Payment Element frame on 127.0.0.1; no internet needed). The checkout page asks for no
// card; Pay creates a PaymentIntent and opens the payment step, where Stripe.js mounts the
// element in a frame and confirms from the page; Kasse reads the intent back on the return URL.
// The page's CSP must let exactly that through: the script, the frame and the API calls.
//
//   cargo test   # builds target/debug/kasse and target/debug/examples/stripe_double
//   cd tests/browser && npm ci && KASSE_BIN=$PWD/../../target/debug/kasse node --test stripe.test.mjs
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  TEST_MS,
  assertAccessible,
  fillCustomer,
  openPage,
  runKasse,
  screenshot,
  startDemo,
  startStripeDouble,
  submitWith,
  text,
} from './support.mjs';

// The demo's checkout (src/demo.rs): 5 Team seats at $15.00 plus the $499.00 onboarding session.
const DUE = '$574.00';
const CONFIRMATION_MESSAGE = 'Welcome to Acme Analytics! Your workspace is ready.';
const CUSTOMER = {
  email: 'katherine@johnson.example',
  name: 'Katherine Johnson',
  country: 'United States',
  line1: '1 Langley Boulevard',
  postalCode: '23681',
  city: 'Hampton',
};
// Stripe's test cards, as the double's Stripe.js maps them.
const CARD_OK = '4242 4242 4242 4242';
const CARD_DECLINE = '4000 0000 0000 0002';
const CARD_3DS = '4000 0027 6000 3184';
const DECLINED = 'Your card was declined.';
const NEXT_STEP = 'You enter your card or bank details on the next step, in a secure form from Stripe.';
const NEEDS_JAVASCRIPT =
  'Paying by card needs JavaScript, which is turned off in this browser. Turn it on and reload this page.';
const STEP_PATH = /\/checkout\/[^/]+\/challenge\/([^/?#]+)$/;

/** The double, then `kasse demo` talking to it, then the demo company moved to Stripe with the CLI. */
async function startOnStripe(t) {
  const double = await startStripeDouble(t);
  const demo = await startDemo(t, {
    env: {
      KASSE_MODE: 'test',
      STRIPE_SECRET_KEY: 'sk_test_double',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_kasse_browser',
      STRIPE_WEBHOOK_SECRET: 'whsec_kasse_browser',
      STRIPE_API_BASE: double.url,
      STRIPE_JS_URL: `${double.url}/v3/`,
    },
  });
  const { company } = demo.api;
  assert.ok(company, 'kasse demo prints its Company');
  await runKasse(['company', 'set-provider', '--company', company, '--provider', 'stripe', '--database-url', demo.databaseUrl]);
  // On failure, what reached "Stripe" and what Kasse logged.
  t.after(() => {
    if (!t.passed) t.diagnostic(`Stripe double requests:\n${double.log()}\nkasse:\n${demo.log().slice(-4000)}`);
  });
  return { double, demo };
}

/** The demo company's checkout sessions with `status`, through its API. */
async function checkouts(demo, status) {
  const url = `${new URL(demo.checkout).origin}/api/v1/companies/${demo.api.company}/checkout?status=${status}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${demo.api.key}` } });
  assert.equal(response.status, 200, `GET ${url}`);
  const body = await response.json();
  return Array.isArray(body) ? body : body.data;
}

function stripeFrame(page) {
  return page.frameLocator('#payment-element iframe[title="Secure payment input frame"]');
}

function elementPay(page) {
  return page.locator('#element-submit');
}

/**
 * From the checkout page to the payment step: no card fields here, the next-step hint instead; fill the
 * customer, press Pay. Resolves to the payment id in the step's URL.
 */
async function toPaymentStep(page, demo) {
  const response = await page.goto(demo.checkout, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await page.locator('#card_number, #card_expiry, #card_cvc').count(), 0, 'no card fields on the checkout');
  assert.equal(await page.getByLabel('Card number').count(), 0);
  assert.equal(await text(page.locator('#card-next-step')), NEXT_STEP);
  await fillCustomer(page, CUSTOMER);
  await submitWith(page, page.getByRole('button', { name: `Pay ${DUE}` }));
  const path = new URL(page.url()).pathname;
  assert.match(path, STEP_PATH, 'Pay leads to the payment step');
  return path.match(STEP_PATH)[1];
}

/** The element is mounted from the double (its frame loaded and said ready): the Pay button is enabled. */
async function assertElementReady(page) {
  await stripeFrame(page).getByLabel('Card number').waitFor({ state: 'visible' });
  await page.waitForSelector('#element-submit:not([disabled])');
  assert.equal(await page.locator('#element-loading').isHidden(), true, 'the loading hint is gone');
  assert.equal(await page.locator('#payment-element iframe').count(), 1, 'one element mounted');
  assert.equal(await text(page.locator('.banner.test')), 'Test mode', 'Stripe test keys: the step says so');
  const src = await page.locator('#payment-element iframe').getAttribute('src');
  assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\/v3\/elements-frame\?/);
}

/** Type a card into the element and press Pay; resolves when the page shows an error (or navigates, see callers). */
async function payWith(page, card) {
  await stripeFrame(page).getByLabel('Card number').fill(card);
  await elementPay(page).click();
}

/** Kasse's confirmation: what the sandbox checkout test asserts after a payment. */
async function assertConfirmation(page, demo) {
  assert.equal(page.url(), demo.checkout, 'back on the checkout, now its confirmation');
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Thank you!');
  assert.equal(await text(page.locator('main .lead')), CONFIRMATION_MESSAGE);
  assert.equal(await page.getByRole('button', { name: /^Pay / }).count(), 0, 'the confirmation offers no second payment');
}

/** Exactly one completed checkout, paid with `paymentId`, as the demo's API reports it. */
async function assertCompleted(demo, paymentId) {
  const completed = await checkouts(demo, 'COMPLETED');
  assert.equal(completed.length, 1, 'one completed checkout');
  assert.equal(completed[0].payment_id, paymentId);
}

test('Stripe payment step at 390×844: element mounted under the CSP, a decline shown, then 4242 pays', { timeout: TEST_MS }, async (t) => {
  const { demo } = await startOnStripe(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  const paymentId = await toPaymentStep(page, demo);
  const step = page.url();

  assert.equal(await page.title(), 'Payment details · Acme Analytics');
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Payment details');
  assert.equal(await text(page.locator('main .amount')), DUE);
  assert.equal(await text(elementPay(page)), `Pay ${DUE}`);
  await assertElementReady(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the step is ${overflow}px wider than the 390px viewport`);
  assert.deepEqual(problems, [], 'Stripe.js, its frame and nothing else loaded without CSP violations or errors');
  await assertAccessible(t, page, 'Stripe payment step at 390');
  await screenshot(page, 'stripe-element-390.png');

  // Declined: Stripe.js resolves {error}; the page says so where it said it would and stays.
  await payWith(page, CARD_DECLINE);
  await page.waitForFunction(() => document.getElementById('element-error').textContent.trim() !== '');
  assert.equal(await text(page.locator('#element-error')), DECLINED);
  assert.equal(await page.locator('#element-error').getAttribute('role'), 'alert');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'element-error', 'focus moves to the message');
  assert.equal(page.url(), step, 'still on the payment step');
  assert.equal(await elementPay(page).isEnabled(), true, 'the customer can try again');
  assert.deepEqual(await checkouts(demo, 'COMPLETED'), [], 'nothing completed by a decline');
  await screenshot(page, 'stripe-declined-390.png');

  // The good card: Stripe.js confirms, goes to the return URL, Kasse reads the intent and completes.
  await Promise.all([page.waitForURL(demo.checkout, { waitUntil: 'load' }), payWith(page, CARD_OK)]);
  await assertConfirmation(page, demo);
  await assertCompleted(demo, paymentId);
  await screenshot(page, 'stripe-confirmation-390.png');
  await assertAccessible(t, page, 'confirmation after Stripe at 390');
  assert.deepEqual(problems, []);
});

test('Stripe payment step at 1280×800: the 3-D Secure test card pays in the browser', { timeout: TEST_MS }, async (t) => {
  const { demo } = await startOnStripe(t);
  const { page, problems } = await openPage(t, { width: 1280, height: 800 });
  const paymentId = await toPaymentStep(page, demo);
  await assertElementReady(page);
  await Promise.all([page.waitForURL(demo.checkout, { waitUntil: 'load' }), payWith(page, CARD_3DS)]);
  await assertConfirmation(page, demo);
  await assertCompleted(demo, paymentId);
  await screenshot(page, 'stripe-3ds-confirmation-1280.png');
  assert.deepEqual(problems, []);
});

test('Stripe payment step: a number that is no test card is refused by Stripe.js, nothing is sent', { timeout: TEST_MS }, async (t) => {
  const { double, demo } = await startOnStripe(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await toPaymentStep(page, demo);
  await assertElementReady(page);
  await payWith(page, '1234 5678 9012 3456');
  await page.waitForFunction(() => document.getElementById('element-error').textContent.trim() !== '');
  assert.equal(await text(page.locator('#element-error')), 'Your card number is invalid.');
  // The double logs its requests every 200 ms: give a stray confirm time to show.
  await page.waitForTimeout(600);
  assert.match(double.log(), /POST \/v1\/payment_intents \(Bearer\)/, 'the log shows what Kasse sent');
  assert.doesNotMatch(double.log(), /\/confirm/, 'no confirm reached Stripe');
  assert.deepEqual(problems, []);
});

test('Stripe payment step without JavaScript: the "needs JavaScript" message, no element (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { demo } = await startOnStripe(t);
  const { page } = await openPage(t, { width: 390, height: 844, javaScriptEnabled: false });
  await toPaymentStep(page, demo);
  const noscript = page.locator('#element-noscript');
  assert.equal(await noscript.isVisible(), true, 'the noscript message shows');
  assert.equal(await text(noscript), NEEDS_JAVASCRIPT);
  assert.equal(await page.locator('#payment-element iframe').count(), 0, 'no element mounted');
  // Nothing that only the script can make work: no loading hint, no Pay button.
  assert.equal(await page.locator('#element-loading').isVisible(), false, 'nothing is loading without JavaScript');
  assert.equal(await elementPay(page).isVisible(), false, 'no Pay button that cannot work');
  assert.deepEqual(await checkouts(demo, 'COMPLETED'), []);
  await screenshot(page, 'stripe-noscript-390.png');
});
