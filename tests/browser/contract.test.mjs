// Real-browser tests of contract signing: the demo's contract (src/demo.rs: Ada Lovelace signs
// an order form for 12 Team seats and onboarding, then pays) opened, read, signed with a typed
// name and a drawn signature, paid, and its certificate printed; axe-core on every page.
//
//   KASSE_BIN=$PWD/target/debug/kasse node --test tests/browser/
//
// Screenshots are written to tests/browser/screenshots/ (artifacts, not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { TEST_MS, assertAccessible, openPage, screenshot, startDemo, submitWith, text } from './support.mjs';

const TITLE = 'Acme Analytics Order Form';
// 12 seats, graduated: 10 × $15.00 + 2 × $12.00 = $174.00 a month, plus $499.00 onboarding.
const DUE_TODAY = '$673.00';
const CONFIRMATION_MESSAGE = 'Thank you! Your Acme Analytics workspace is ready.';

async function fillCard(page) {
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await page.getByLabel('Expiry (MM/YY)').fill('12/34');
  await page.getByLabel('Security code').fill('123');
}

/** Draw a signature-like stroke on the canvas with the mouse. */
async function drawSignature(page) {
  const canvas = page.locator('#signature-pad canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 100 && box.height >= 100, `the signature pad is ${box?.width}×${box?.height}`);
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 20, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) {
    await page.mouse.move(box.x + 20 + i * ((box.width - 40) / 12), y + (i % 2 ? -25 : 25), { steps: 3 });
  }
  await page.mouse.up();
}

for (const [width, height] of [
  [390, 844],
  [1280, 900],
]) {
  test(`the contract page at ${width}×${height}: screenshot and no serious axe violations`, { timeout: TEST_MS }, async (t) => {
    const { contract } = await startDemo(t);
    const { page, problems } = await openPage(t, { width, height });
    const response = await page.goto(contract, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    assert.equal(await text(page.getByRole('heading', { level: 1 })), TITLE);
    // The rendered document, filled from the customer and the template's variables.
    const doc = page.locator('article.document');
    assert.match(await text(doc), /Analytical Engines Ltd/);
    assert.match(await text(doc), /Customer data stays in the EU region\./);
    assert.equal(await page.getByRole('button', { name: 'Sign contract' }).count(), 1);
    assert.ok(await page.locator('#signature-pad').isVisible(), 'the script shows the signature pad');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the ${width}px viewport`);
    await screenshot(page, `contract-${width}.png`);
    await assertAccessible(t, page, `contract at ${width}`);
    assert.deepEqual(problems, []);
  });
}

test('Ada signs the demo contract with a typed and a drawn signature, pays, and prints the certificate (390 wide)', { timeout: TEST_MS }, async (t) => {
  const { contract } = await startDemo(t);
  const { page, problems } = await openPage(t, { width: 390, height: 844 });
  await page.goto(contract, { waitUntil: 'load' });

  // Signing without consent is refused, with the error tied to the checkbox.
  const name = page.getByLabel('Full legal name');
  assert.equal(await name.inputValue(), 'Ada Lovelace');
  await submitWith(page, page.getByRole('button', { name: 'Sign contract' }));
  assert.equal(await page.getByRole('checkbox').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#errors').getAttribute('role'), 'alert');
  await screenshot(page, 'contract-error-390.png');
  await assertAccessible(t, page, 'contract with an error at 390');

  await name.fill('Augusta Ada King, Countess of Lovelace');
  await page.getByLabel('I have read the disclosure above and agree to sign this contract electronically.').check();
  await drawSignature(page);
  const image = await page.locator('input[name="signature_image"]').inputValue();
  assert.match(image, /^data:image\/png;base64,/, 'the drawing travels with the form');
  await screenshot(page, 'contract-signed-form-390.png');

  // The last signature leads to the payment step on the checkout page.
  await submitWith(page, page.getByRole('button', { name: 'Sign contract' }));
  assert.match(page.url(), /\/checkout\/[0-9a-f]{32}$/);
  assert.equal(await text(page.locator('.summary .total')), `Due today ${DUE_TODAY}`);
  await fillCard(page);
  await submitWith(page, page.getByRole('button', { name: /^Pay / }));
  assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Thank you!');
  assert.equal(await text(page.locator('main .lead')), CONFIRMATION_MESSAGE);

  // Back on the contract: complete, with the certificate one click away.
  await page.goto(contract, { waitUntil: 'load' });
  assert.match(await text(page.locator('.notice')), /complete/i);
  assert.equal(await page.getByRole('button', { name: 'Sign contract' }).count(), 0);
  await submitWith(page, page.getByRole('link', { name: 'Signature certificate and audit trail' }));
  assert.match(page.url(), /\/contracts\/[0-9a-f]{32}\/certificate$/);
  const certificate = await text(page.locator('main'));
  assert.match(certificate, /[0-9a-f]{64}/, 'the document hash');
  assert.match(certificate, /Augusta Ada King, Countess of Lovelace/);
  for (const step of ['Created', 'Sent', 'Viewed', 'Signed', 'Paid', 'Completed']) {
    assert.match(certificate, new RegExp(step), `the audit trail names "${step}"`);
  }
  assert.equal(await page.locator('img[src^="data:image/png;base64,"]').count(), 1, 'the drawn signature');
  await screenshot(page, 'certificate-390.png');
  await assertAccessible(t, page, 'certificate at 390');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('button', { name: /print/i }).isVisible(), false, 'no buttons on paper');
  await screenshot(page, 'certificate-print-390.png');
  assert.deepEqual(problems, []);
});

test('without JavaScript the typed name alone signs the contract (1280 wide)', { timeout: TEST_MS }, async (t) => {
  const { contract } = await startDemo(t);
  const { page } = await openPage(t, { width: 1280, height: 900, javaScriptEnabled: false });
  await page.goto(contract, { waitUntil: 'load' });
  assert.equal(await page.locator('#signature-pad').isVisible(), false, 'no pad without the script');
  await page.getByLabel('I have read the disclosure above and agree to sign this contract electronically.').check();
  await submitWith(page, page.getByRole('button', { name: 'Sign contract' }));
  assert.match(page.url(), /\/checkout\/[0-9a-f]{32}$/);
  await page.goto(contract, { waitUntil: 'load' });
  assert.match(await text(page.locator('.notice')), /signed/i);
  await screenshot(page, 'contract-awaiting-payment-1280.png');
});
