// Real-browser tests of the hosted invoice page: the demo's open invoice (src/demo.rs: one-time
// charges for Ada Lovelace with a discount, payment instructions and notes) read at phone and
// desktop widths, refused with the decline card, paid with the test card, confirmed through the
// bank's challenge, printed, and read in German; axe-core on every page.
//
//   KASSE_BIN=$PWD/target/debug/kasse node --test tests/browser/
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TEST_MS, assertAccessible, openPage, screenshot, startDemo, text } from './support.mjs';

const CARD_OK = '4242 4242 4242 4242';
const CARD_DECLINE = '4000 0000 0000 0002';
const CARD_CHALLENGE = '4000 0027 6000 3184';

/** The demo's invoice URL; the demo prints it as "  Invoice:  http://…/invoices/TOKEN". */
async function demoInvoice(t) {
  const { invoice } = await startDemo(t);
  assert.match(invoice ?? '', /\/invoices\/[0-9a-f]{32}$/, 'kasse demo prints an Invoice URL');
  return invoice;
}

/** Press a submit button; resolves to the response of the page the browser ends on. */
async function submitFor(page, button) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return response;
}

async function fillCard(page, number) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByLabel('Security code').fill('123');
}

function payButton(page) {
  return page.getByRole('button', { name: /^Pay / });
}

/** The amount due as the page states it in its facts ("$1,529.10"). */
async function amountDue(page) {
  return text(page.locator('.invoice-facts .due-amount dd'));
}

/** What an open invoice shows, whatever the demo bills. */
async function assertOpenInvoice(page) {
  assert.match(await text(page.getByRole('heading', { level: 1 })), /^Invoice INV-\d{4}-\d+$/);
  assert.equal(await text(page.locator('.badge')), 'Status: Open');
  assert.match(await text(page.locator('.bill-to')), /Ada Lovelace/);
  // The lines: a real table, each row headed by its item.
  const table = page.getByRole('table');
  assert.equal(await table.locator('thead th[scope="col"]').count(), 3);
  assert.ok((await table.locator('tbody th[scope="row"]').count()) >= 2, 'the demo invoice has a couple of lines');
  assert.ok((await page.locator('.invoice-totals .discount').count()) >= 1, 'and a discount line');
  assert.equal(await page.getByRole('heading', { name: 'Payment instructions', level: 2 }).count(), 1);
  assert.equal(await page.getByRole('heading', { name: 'Notes', level: 2 }).count(), 1);
  const due = await amountDue(page);
  assert.match(due, /^\$[\d,]+\.\d\d$/);
  assert.equal(await text(page.locator('.invoice-totals .total')), `Amount due ${due}`);
  assert.equal(await text(payButton(page)), `Pay ${due}`);
  return due;
}

/** In print: the invoice alone, no form, no buttons, no language links. */
async function assertPrintable(page) {
  await page.emulateMedia({ media: 'print' });
  for (const selector of ['form', 'button', '.lang-switch', '.pay-jump', '.skip', '.banner']) {
    const all = page.locator(selector);
    for (let i = 0; i < (await all.count()); i += 1) {
      assert.equal(await all.nth(i).isVisible(), false, `${selector} #${i} is hidden in print`);
    }
  }
  assert.ok(await page.getByRole('table').isVisible(), 'the lines print');
  assert.ok(await page.locator('.invoice-totals').isVisible(), 'the totals print');
  const colour = await page.locator('.invoice-totals .total').evaluate((e) => getComputedStyle(e).color);
  assert.equal(colour, 'rgb(0, 0, 0)', 'black on white');
  await page.emulateMedia({ media: 'screen' });
}

for (const [width, height] of [
  [390, 844],
  [1280, 900],
]) {
  test(`the invoice page at ${width}×${height}: screenshot, print view and no serious axe violations`, { timeout: TEST_MS }, async (t) => {
    const invoice = await demoInvoice(t);
    const { page, problems } = await openPage(t, { width, height });
    const response = await page.goto(invoice, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['cache-control'], 'no-store');
    assert.match(await page.title(), /^Invoice INV-\d{4}-\d+ · Acme Analytics$/);
    await assertOpenInvoice(page);
    assert.ok(await page.getByRole('button', { name: 'Print / Save as PDF' }).isVisible(), 'the script shows the print button');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the ${width}px viewport`);
    await screenshot(page, `invoice-${width}.png`);
    await assertAccessible(t, page, `invoice at ${width}`);
    await assertPrintable(page);
    assert.deepEqual(problems, []);
  });
}

test('the customer is told what is wrong, refused by the decline card, then pays and gets a receipt (390 wide)', { timeout: TEST_MS }, async (t) => {
  const invoice = await demoInvoice(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await page.goto(invoice, { waitUntil: 'load' });
  const due = await amountDue(page);

  // Nothing typed: every error beside its field, linked to it, and summed up in a focused alert.
  let response = await submitFor(page, payButton(page));
  assert.equal(response.status(), 422);
  for (const field of ['card_number', 'card_expiry', 'card_cvc']) {
    const input = page.locator(`#${field}`);
    assert.equal(await input.getAttribute('aria-invalid'), 'true', `${field} is marked invalid`);
    assert.match(await input.getAttribute('aria-describedby'), new RegExp(`\\b${field}-error\\b`));
    assert.ok(await page.locator(`#${field}-error`).isVisible());
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'errors');
  await assertAccessible(t, page, 'invoice with errors at 390');

  // The decline card: the provider's reason in an alert; the expiry kept, the card number not.
  await fillCard(page, CARD_DECLINE);
  response = await submitFor(page, payButton(page));
  assert.equal(response.status(), 402);
  const alert = page.locator('#payment-alert');
  assert.equal(await alert.getAttribute('role'), 'alert');
  assert.match(await text(alert), /declined/i);
  // Focused by the script, so a phone shows it right above the fields to fix, not 1,000px up the page.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'payment-alert');
  const inView = await alert.evaluate((e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });
  assert.ok(inView, 'the alert is in view');
  assert.equal(await page.getByLabel('Card number').inputValue(), '');
  assert.equal(await page.getByLabel('Expiry (MM/YY)').inputValue(), '12/34');
  assert.equal(await text(page.locator('.badge')), 'Status: Open');
  await screenshot(page, 'invoice-declined-390.png');
  await assertAccessible(t, page, 'invoice with a declined card at 390');

  // The test card pays it: back on the invoice's own URL, with the receipt instead of the form.
  await fillCard(page, CARD_OK);
  response = await submitFor(page, payButton(page));
  assert.equal(response.status(), 200);
  assert.equal(page.url(), invoice, 'redirected to the invoice page (post/redirect/get)');
  assert.equal(await text(page.locator('.badge')), 'Status: Paid');
  const receipt = page.locator('.invoice-receipt');
  assert.equal(await text(receipt.getByRole('heading', { level: 2 })), 'Payment received');
  assert.match(await text(receipt), /Paid on [A-Z][a-z]+ \d{1,2}, \d{4}/);
  assert.match(await text(receipt), new RegExp(`Amount paid ${due.replace(/[$.]/g, '\\$&')}`));
  assert.match(await text(receipt.locator('code')), /^pay_[0-9A-Z]{26}$/, 'the payment reference');
  assert.equal(await payButton(page).count(), 0, 'no second payment');
  assert.equal(await page.locator('form').count(), 0);
  assert.equal(await amountDue(page), '$0.00');
  await screenshot(page, 'invoice-paid-390.png');
  await assertAccessible(t, page, 'paid invoice at 390');
  await assertPrintable(page);
  assert.ok(await receipt.isVisible(), 'the receipt prints');
  assert.deepEqual(problems, []);
});

test('a card that needs the bank\'s confirmation pays after approval (1280 wide)', { timeout: TEST_MS }, async (t) => {
  const invoice = await demoInvoice(t);
  const { page, problems } = await openPage(t, { width: 1280, height: 900 });
  await page.goto(invoice, { waitUntil: 'load' });
  await fillCard(page, CARD_CHALLENGE);
  let response = await submitFor(page, payButton(page));
  assert.equal(response.status(), 200);
  assert.match(page.url(), /\/invoices\/[0-9a-f]{32}\/challenge\/pay_[0-9A-Z]{26}$/);
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Confirm your payment');
  await assertAccessible(t, page, 'invoice challenge at 1280');
  response = await submitFor(page, page.getByRole('button', { name: 'Approve' }));
  assert.equal(response.status(), 200);
  assert.equal(page.url(), invoice);
  assert.equal(await text(page.locator('.badge')), 'Status: Paid');
  await screenshot(page, 'invoice-paid-1280.png');
  await assertAccessible(t, page, 'paid invoice at 1280');
  assert.deepEqual(problems, []);
});

test('without JavaScript the invoice is paid the same way, only the print button is missing (390 wide)', { timeout: TEST_MS }, async (t) => {
  const invoice = await demoInvoice(t);
  const { page } = await openPage(t, { width: 390, height: 844, javaScriptEnabled: false });
  await page.goto(invoice, { waitUntil: 'load' });
  assert.equal(await page.getByRole('button', { name: 'Print / Save as PDF' }).isVisible(), false);
  await fillCard(page, CARD_OK);
  const response = await submitFor(page, payButton(page));
  assert.equal(response.status(), 200);
  assert.equal(page.url(), invoice);
  assert.equal(await text(page.locator('.badge')), 'Status: Paid');
});

test('the invoice in German with ?lang=de, kept after a refused payment (390 wide)', { timeout: TEST_MS }, async (t) => {
  const invoice = await demoInvoice(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  const response = await page.goto(`${invoice}?lang=de`, { waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.match(await text(page.getByRole('heading', { level: 1 })), /^Rechnung INV-\d{4}-\d+$/);
  assert.equal(await page.getByRole('heading', { name: 'Rechnung bezahlen', level: 2 }).count(), 1);
  assert.equal(await text(page.locator('.badge')), 'Status: Offen');
  const button = page.getByRole('button', { name: / bezahlen$/ });
  assert.match(await text(button), /^[\d.]+,\d\d \$ bezahlen$/);
  assert.equal(await page.getByRole('link', { name: 'Deutsch' }).getAttribute('aria-current'), 'true');
  await screenshot(page, 'invoice-de-390.png');
  await assertAccessible(t, page, 'German invoice at 390');

  await page.getByLabel('Kartennummer').fill(CARD_DECLINE);
  await page.getByLabel('Gültig bis (MM/JJ)').fill('12/34');
  await page.getByLabel('Prüfnummer (CVC)').fill('123');
  const refused = await submitFor(page, button);
  assert.equal(refused.status(), 402);
  assert.equal(await page.getAttribute('html', 'lang'), 'de', 'the chosen language outlives the form');
  assert.match(await text(page.getByRole('heading', { level: 1 })), /^Rechnung /);
  assert.deepEqual(problems, []);
});

test('a voided invoice says nothing is due and offers no form (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { invoice, api } = await startDemo(t);
  assert.ok(invoice && api.key && api.company, 'kasse demo prints the invoice, the API key and the company');
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await page.goto(invoice, { waitUntil: 'load' });
  const number = (await text(page.getByRole('heading', { level: 1 }))).replace(/^Invoice /, '');
  // Void it through the API, as the merchant would.
  const base = `${new URL(invoice).origin}/api/v1/companies/${api.company}/invoices`;
  const headers = { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' };
  const open = await (await fetch(`${base}?status=open`, { headers })).json();
  const id = open.data.find((i) => i.number === number)?.id;
  assert.ok(id, `the API lists ${number} as open`);
  const voided = await fetch(`${base}/${id}/void`, { method: 'POST', headers, body: '{}' });
  assert.equal(voided.status, 200);

  const response = await page.reload({ waitUntil: 'load' });
  assert.equal(response.status(), 200);
  assert.equal(await text(page.locator('.badge')), 'Status: Void');
  assert.equal(await text(page.getByRole('heading', { level: 2 }).first()), 'Invoice cancelled', 'the cancellation comes first');
  assert.match(await text(page.locator('.invoice-void')), /Nothing is due/);
  assert.equal(await amountDue(page), '$0.00');
  assert.equal(await page.locator('form').count(), 0);
  assert.equal(await page.getByRole('heading', { name: 'Payment instructions' }).count(), 0, 'no instructions to pay a void invoice');
  await screenshot(page, 'invoice-void-390.png');
  await assertAccessible(t, page, 'void invoice at 390');
  await assertPrintable(page);
  assert.deepEqual(problems, []);
});

test('an unknown invoice token is the friendly not-found page', { timeout: TEST_MS }, async (t) => {
  const invoice = await demoInvoice(t);
  const { page } = await openPage(t, { width: 390, height: 844 });
  for (const url of [invoice.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), invoice.replace(/[0-9a-f]{32}$/, 'nope')]) {
    const response = await page.goto(url, { waitUntil: 'load' });
    assert.equal(response.status(), 404);
    assert.equal(await text(page.getByRole('heading', { level: 1 })), "We couldn't find that page");
  }
});
