import { type Page, expect, test } from '@playwright/test';
import { PHONE, checkA11y, expectFieldError, open, requireEnv, signInCitizen } from './helpers';

// Payments (issue #5): card with 3-D Secure, and CoDi. The page loads Conekta.js (the simulator
// serves it, as Conekta's CDN does in production), the card goes from the browser to
// Conekta's origin and only a token comes to us; the bank's page authorises and sends
// the citizen back; the balance goes down once.
test.use(PHONE);

/** The dashboard's balance in centavos: owed is positive, "a tu favor" negative. */
async function balance(page: Page): Promise<number> {
  const shown = page.locator('.balance');
  const m = /^\$([\d,]+)\.(\d{2})$/.exec((await shown.locator('.amount').innerText()).trim());
  expect(m, 'a peso amount').not.toBeNull();
  const abs = Number(m![1].replace(/,/g, '')) * 100 + Number(m![2]);
  return (await shown.getAttribute('class'))?.split(/\s+/).includes('credit') ? -abs : abs;
}

test('card and CoDi: tokenized in the browser, declines explained, 3-D Secure, QR paid by SPEI, each applied once', async ({ page }) => {
  // The third demo login (the bills spec signs in with it once).
  await signInCitizen(page, requireEnv('SUPRA_E2E_CONTRACT3'));
  const before = await balance(page);
  const origin = new URL(page.url()).origin;
  // Nothing we receive may carry the card number.
  const leaked: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(origin) && (r.postData() ?? '').replace(/\D/g, '').includes('42424242')) leaked.push(r.url());
  });

  await open(page, '/cuenta/pagar');
  await page.getByLabel('Otra cantidad', { exact: true }).check();
  await page.locator('#otro').fill('150');
  await page.getByLabel('Tarjeta de débito o crédito', { exact: true }).check();
  await page.getByRole('button', { name: 'Continuar' }).click();
  const form = page.getByRole('region', { name: 'Paga con tarjeta' });
  await expect(form).toBeVisible();
  await expect(form).toContainText('$150.00');
  await checkA11y(page, 'card form');

  const number = page.locator('#numero');
  await page.locator('#nombre').fill('Ana López');
  await page.locator('#vence').fill('08/35');
  await page.locator('#cvv').fill('123');

  // A number that fails the issuer's check: said next to the field, by Conekta.
  await number.fill('4242 4242 4242 4243');
  await form.getByRole('button', { name: 'Pagar' }).click();
  await expectFieldError(page, number, /número de tarjeta no es válido/);

  // Declined by the bank: the reason and the alternatives.
  await number.fill('4000 0000 0000 0002');
  await form.getByRole('button', { name: 'Pagar' }).click();
  await expect(form.getByRole('alert')).toContainText(/declinada.*OXXO.*SPEI/);

  // Approved, after the bank's 3-D Secure page.
  await number.fill('4242 4242 4242 4242');
  await form.getByRole('button', { name: 'Pagar' }).click();
  await expect(page.getByRole('heading', { name: 'Verificación de su banco' })).toBeVisible();
  await expect(page.locator('body')).toContainText('$150.00');
  await page.getByRole('button', { name: 'Autorizar' }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/pagar/tarjeta');
  await expect(page.getByRole('heading', { level: 2, name: /^Pago (aprobado|aplicado)$/ })).toBeVisible();
  await checkA11y(page, 'card result');

  await expect
    .poll(
      async () => {
        await open(page, '/cuenta');
        return balance(page);
      },
      { message: 'the balance should drop by $150.00, once', timeout: 15_000 },
    )
    .toBe(before - 15000);
  expect(leaked, 'card numbers never reach our server').toEqual([]);

  // CoDi: a QR for the banking app; the bank's SPEI abono (with folioCodi) confirms it.
  const paidByCard = await balance(page);
  await open(page, '/cuenta/pagar');
  await page.getByLabel('Otra cantidad', { exact: true }).check();
  await page.locator('#otro').fill('20');
  await page.getByLabel('CoDi: código QR para pagar desde la app de tu banco', { exact: true }).check();
  await page.getByRole('button', { name: 'Continuar' }).click();
  const codi = page.getByRole('region', { name: 'Paga con CoDi' });
  await expect(codi).toBeVisible();
  const qr = codi.getByRole('img', { name: /^Código QR CoDi por \$20\.00, referencia \d{7}$/ });
  await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  await checkA11y(page, 'CoDi QR');
  const referencia = (await codi.locator('.codi-reference').innerText()).trim();
  const clabe = (await codi.locator('.codi-clabe').innerText()).trim();
  expect(clabe).toMatch(/^\d{18}$/);
  const sims = await (await page.request.get('/dev/simuladores')).json();
  const abono = await page.request.post(`${sims.stp}/sim/abono`, {
    data: { cuentaBeneficiario: clabe, monto: '20.00', referenciaNumerica: Number(referencia), folioCodi: '0123456789' },
  });
  expect((await abono.json()).delivered).toBe(200);
  await expect
    .poll(
      async () => {
        await open(page, '/cuenta');
        return balance(page);
      },
      { message: 'the balance should drop by $20.00', timeout: 15_000 },
    )
    .toBe(paidByCard - 2000);
  await open(page, '/cuenta/pagar');
  await expect(page.getByRole('region', { name: 'Tus referencias de pago' }).getByRole('row').filter({ hasText: referencia })).toContainText('Pago confirmado');
});
