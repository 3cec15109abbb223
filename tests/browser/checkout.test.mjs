// Real-browser tests of the hosted checkout: Debian's chromium driven by playwright-core,
// accessibility checked with axe-core. Each test starts its own `kasse demo` on a fresh SQLite
// database (every run seeds the demo merchant and prints a new checkout URL) and stops it
// with SIGTERM at the end, pass or fail.
//
//   KASSE_BIN=$PWD/target/debug/kasse node --test tests/browser/
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TEST_MS, assertAccessible, fillCustomer, openPage, screenshot, startDemo, submitWith, text } from './support.mjs';

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

function payButton(page) {
  return page.getByRole('button', { name: /^Pay / });
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
  await fillCustomer(page, CUSTOMER);
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
  await fillCustomer(page, CUSTOMER);
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
  await fillCustomer(page, CUSTOMER);
  await fillCard(page, CARD_OK);
  await submitWith(page, payButton(page));
  await assertConfirmation(page);
});
