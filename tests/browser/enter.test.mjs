// Real-browser tests of what Enter does on the hosted checkout, with and without JavaScript, and that a
// payment never charges another total than the page showed (a quantity typed without Update).
//
//   KASSE_BIN=$PWD/target/debug/kasse node --test tests/browser/enter.test.mjs
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TEST_MS, fillCustomer, openPage, screenshot, startDemo, submitWith, text } from './support.mjs';

// What the demo sells (src/demo.rs): seats at $15.00 each (5 to start) plus a one-time $499.00
// onboarding session; LAUNCH20 takes 20% off.
const DUE_AT_5_SEATS = '$574.00'; // 5 × $15.00 + $499.00
const DUE_AT_7_SEATS = '$604.00'; // 7 × $15.00 + $499.00
const DISCOUNT_AT_5 = '−$114.80'; // 20% of $574.00
const DUE_AT_5_WITH_PROMO = '$459.20'; // $574.00 − $114.80
const CONFIRMATION_MESSAGE = 'Welcome to Acme Analytics! Your workspace is ready.';
const TOTAL_CHANGED_TO_7 = `The total changed to ${DUE_AT_7_SEATS}. Nothing was charged — check it and press Pay again.`;

const CUSTOMER = {
  email: 'grace@hopper.example',
  name: 'Grace Hopper',
  country: 'United States',
  line1: '1 Market Street',
  postalCode: '94103',
  city: 'San Francisco',
};
const CARD_OK = '4242 4242 4242 4242';

const MODES = [
  { label: 'with JavaScript', slug: 'js', javaScriptEnabled: true },
  { label: 'without JavaScript', slug: 'nojs', javaScriptEnabled: false },
];

function payButton(page) {
  return page.getByRole('button', { name: /^Pay / });
}

async function fillCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByLabel('Security code').fill('123');
}

/** Press Enter in a field, as the customer would after typing, and wait for the page the server answers with. */
async function pressEnterIn(page, field) {
  await field.focus();
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

/** The demo's checkout on a fresh `kasse demo` and a page open on it (390 wide); problems must stay empty with JS. */
async function openCheckout(t, mode) {
  const demo = await startDemo(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844, javaScriptEnabled: mode.javaScriptEnabled });
  const response = await page.goto(demo.url, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_5_SEATS}`);
  return { demo, page, problems };
}

/** The checkout session as the merchant API reports it (found by its URL in the company's list). */
async function merchantView(demo) {
  const base = new URL(demo.url).origin;
  const response = await fetch(`${base}/api/v1/companies/${demo.api.company}/checkout`, {
    headers: { Authorization: `Bearer ${demo.api.key}` },
  });
  assert.equal(response.status, 200, `listing checkouts: ${await response.clone().text()}`);
  const found = (await response.json()).data.find((c) => c.url === demo.url);
  assert.ok(found, `the demo checkout ${demo.url} is not in the merchant's list`);
  const one = await fetch(`${base}/api/v1/companies/${demo.api.company}/checkout/${found.id}`, {
    headers: { Authorization: `Bearer ${demo.api.key}` },
  });
  assert.equal(one.status, 200);
  return one.json();
}

async function assertNothingCharged(page, demo) {
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Checkout', 'still on the checkout page');
  assert.equal(await payButton(page).count(), 1, 'the Pay button is still offered');
  const session = await merchantView(demo);
  assert.notEqual(session.status, 'COMPLETED', 'the merchant sees no completed checkout');
  assert.equal(session.payment_id, null, 'the merchant sees no payment');
}

/** The confirmation page, the amount it says was paid, and the merchant's view of the same charge. */
async function assertPaid(page, demo, shown) {
  const alerts = await page.locator('[role="alert"]').allInnerTexts();
  assert.equal(
    await text(page.getByRole('heading', { level: 1 })),
    'Thank you!',
    `not the confirmation; the page's alerts: ${JSON.stringify(alerts)}`,
  );
  assert.equal(await text(page.locator('main .lead')), CONFIRMATION_MESSAGE);
  assert.equal(await text(page.locator('.summary div', { hasText: 'Amount paid' }).locator('dd')), shown);
  assert.equal(await payButton(page).count(), 0, 'the confirmation offers no second payment');
  const session = await merchantView(demo);
  assert.equal(session.status, 'COMPLETED', 'the merchant sees the checkout completed');
  assert.notEqual(session.payment_id, null, 'the merchant sees the payment');
  assert.equal(session.quote?.due_today?.total, cents(shown), 'the merchant was paid the total the customer saw');
}

/** '$604.00' → 60400 */
function cents(amount) {
  return Math.round(Number(amount.replace(/[^0-9.]/g, '')) * 100);
}

for (const mode of MODES) {
  test(`Enter in the promo field applies LAUNCH20 and charges nothing (${mode.label})`, { timeout: TEST_MS }, async (t) => {
    const { demo, page, problems } = await openCheckout(t, mode);
    // Everything a payment needs is filled in: a wrong Enter would pay.
    await fillCustomer(page, CUSTOMER);
    await fillCard(page, CARD_OK);
    await page.getByLabel('Promo code').fill('LAUNCH20');
    await pressEnterIn(page, page.getByLabel('Promo code'));
    assert.equal(await text(page.locator('.promo-applied')), 'Promo code applied: LAUNCH20 Remove');
    assert.equal(await text(page.locator('.summary .discount')), `Launch: 20% off for 3 months ${DISCOUNT_AT_5}`);
    assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_5_WITH_PROMO}`);
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_WITH_PROMO}`);
    assert.equal(await page.locator('[role="alert"]').count(), 0, 'no error or alert on the page');
    assert.equal(await page.getByLabel('Email').inputValue(), CUSTOMER.email, 'what was typed is kept');
    await assertNothingCharged(page, demo);
    await screenshot(page, `enter-promo-${mode.slug}.png`);
    assert.deepEqual(problems, []);
  });

  test(`Enter in the security code pays the shown total (${mode.label})`, { timeout: TEST_MS }, async (t) => {
    const { demo, page, problems } = await openCheckout(t, mode);
    await fillCustomer(page, CUSTOMER);
    await fillCard(page, CARD_OK);
    await pressEnterIn(page, page.getByLabel('Security code'));
    await assertPaid(page, demo, DUE_AT_5_SEATS);
    await screenshot(page, `enter-cvc-paid-${mode.slug}.png`);
    assert.deepEqual(problems, []);
  });

  test(`Enter in the email field pays once everything is filled in (${mode.label})`, { timeout: TEST_MS }, async (t) => {
    const { demo, page, problems } = await openCheckout(t, mode);
    await fillCustomer(page, CUSTOMER);
    await fillCard(page, CARD_OK);
    await pressEnterIn(page, page.getByLabel('Email'));
    await assertPaid(page, demo, DUE_AT_5_SEATS);
    assert.deepEqual(problems, []);
  });
}

test('Enter in the full name field pays without JavaScript too', { timeout: TEST_MS }, async (t) => {
  const { demo, page } = await openCheckout(t, MODES[1]);
  await fillCustomer(page, CUSTOMER);
  await fillCard(page, CARD_OK);
  await pressEnterIn(page, page.getByLabel('Full name'));
  await assertPaid(page, demo, DUE_AT_5_SEATS);
});

test('with JavaScript, Enter in the quantity field updates the seats and charges nothing', { timeout: TEST_MS }, async (t) => {
  const { demo, page, problems } = await openCheckout(t, MODES[0]);
  await fillCustomer(page, CUSTOMER);
  await fillCard(page, CARD_OK);
  await page.getByLabel('Quantity').fill('7');
  await pressEnterIn(page, page.getByLabel('Quantity'));
  assert.equal(await page.getByLabel('Quantity').inputValue(), '7');
  assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_7_SEATS}`);
  assert.equal(await text(payButton(page)), `Pay ${DUE_AT_7_SEATS}`);
  // An Update, not a refused payment: no "total changed" alert.
  assert.equal(await page.locator('[role="alert"]').count(), 0, 'no error or alert on the page');
  await assertNothingCharged(page, demo);
  await screenshot(page, 'enter-quantity-js.png');
  assert.deepEqual(problems, []);
});

for (const mode of MODES) {
  test(`a quantity changed without Update is not charged: Pay shows the new total first (${mode.label})`, { timeout: TEST_MS }, async (t) => {
    const { demo, page, problems } = await openCheckout(t, mode);
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_SEATS}`);
    await page.getByLabel('Quantity').fill('7');
    await fillCustomer(page, CUSTOMER);
    await fillCard(page, CARD_OK);
    // The button still says the old total: the customer agreed to that one, not to $604.00.
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_SEATS}`);
    await submitWith(page, payButton(page));

    const alert = page.locator('#payment-alert');
    assert.equal(await text(alert), TOTAL_CHANGED_TO_7);
    assert.equal(await alert.getAttribute('role'), 'alert');
    assert.ok(await alert.isVisible(), 'the alert is shown');
    assert.equal(await page.getByLabel('Quantity').inputValue(), '7');
    assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_7_SEATS}`);
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_7_SEATS}`);
    assert.equal(await page.getByLabel('Email').inputValue(), CUSTOMER.email, 'what was typed is kept');
    await assertNothingCharged(page, demo);
    await screenshot(page, `total-changed-${mode.slug}.png`);

    // Pressing Pay again pays the total now shown. The card number and security code are never kept
    // in the page (as after a decline), so they are typed again.
    await fillCard(page, CARD_OK);
    await submitWith(page, payButton(page));
    await assertPaid(page, demo, DUE_AT_7_SEATS);
    await screenshot(page, `total-changed-then-paid-${mode.slug}.png`);
    assert.deepEqual(problems, []);
  });
}

test('without JavaScript, Enter in a changed quantity field charges nothing and shows the new total', { timeout: TEST_MS }, async (t) => {
  const { demo, page } = await openCheckout(t, MODES[1]);
  await fillCustomer(page, CUSTOMER);
  await fillCard(page, CARD_OK);
  await page.getByLabel('Quantity').fill('7');
  await pressEnterIn(page, page.getByLabel('Quantity'));
  assert.equal(await text(page.locator('#payment-alert')), TOTAL_CHANGED_TO_7);
  assert.equal(await page.getByLabel('Quantity').inputValue(), '7');
  assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_AT_7_SEATS}`);
  assert.equal(await text(payButton(page)), `Pay ${DUE_AT_7_SEATS}`);
  await assertNothingCharged(page, demo);
});

for (const mode of MODES) {
  test(`Pay with a promo code typed but not applied applies it first and charges nothing (${mode.label})`, { timeout: TEST_MS }, async (t) => {
    const { demo, page, problems } = await openCheckout(t, mode);
    await fillCustomer(page, CUSTOMER);
    await fillCard(page, CARD_OK);
    await page.getByLabel('Promo code').fill('LAUNCH20');
    await submitWith(page, payButton(page));
    assert.equal(
      await text(page.locator('#payment-alert')),
      `The total changed to ${DUE_AT_5_WITH_PROMO}. Nothing was charged — check it and press Pay again.`,
    );
    assert.equal(await text(page.locator('.promo-applied')), 'Promo code applied: LAUNCH20 Remove');
    assert.equal(await text(payButton(page)), `Pay ${DUE_AT_5_WITH_PROMO}`);
    await assertNothingCharged(page, demo);
    await screenshot(page, `pay-typed-promo-${mode.slug}.png`);
    await fillCard(page, CARD_OK);
    await submitWith(page, payButton(page));
    await assertPaid(page, demo, DUE_AT_5_WITH_PROMO);
    assert.deepEqual(problems, []);
  });
}

test('a quantity out of range says the range beside the field', { timeout: TEST_MS }, async (t) => {
  const { demo, page, problems } = await openCheckout(t, MODES[0]);
  await page.getByLabel('Quantity').fill('500');
  await pressEnterIn(page, page.getByLabel('Quantity'));
  const error = page.locator('.field.qty .error');
  assert.equal(await text(error), 'Enter a quantity between 1 and 100');
  assert.equal(await page.getByLabel('Quantity').inputValue(), '500', 'what was typed is kept');
  await assertNothingCharged(page, demo);
  await screenshot(page, 'quantity-out-of-range-js.png');
  assert.deepEqual(problems, []);
});
