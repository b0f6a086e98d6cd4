import { expect, test } from '@playwright/test';
import { PHONE, checkA11y, expectFieldError, open, requireEnv, signInCitizen } from './helpers';

// Payments (issue #5): cash at OXXO through Conekta. The citizen asks for a reference,
// the Conekta simulator (which the server's production client talks to by URL) is paid
// as an OXXO till would, its signed webhooks arrive, and the balance goes down — once.
test.use(PHONE);

/** "$1,234.56" → 123456 centavos. */
function centavos(text: string): number {
  const m = /^\$([\d,]+)\.(\d{2})$/.exec(text.trim());
  expect(m, `a peso amount, got «${text}»`).not.toBeNull();
  return Number(m![1].replace(/,/g, '')) * 100 + Number(m![2]);
}

test('OXXO: a reference with its barcode, paid at the till, lowers the balance once', async ({ page }) => {
  // The fourth demo login (the SPEI spec uses it too; two sign-ins stay under the limit).
  await signInCitizen(page, requireEnv('SUPRA_E2E_CONTRACT4'));
  const before = centavos(await page.locator('.balance .amount').innerText());

  await page.getByRole('link', { name: 'Pagar', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/pagar');
  await expect(page.getByRole('heading', { level: 1, name: 'Pagar' })).toBeVisible();
  await checkA11y(page, 'pay page');

  // Over the OXXO limit: the reason next to the amount.
  await page.getByLabel('Otra cantidad', { exact: true }).check();
  await expect(page.getByLabel('Importe en pesos, si elegiste otra cantidad')).toHaveAttribute('id', 'otro');
  // By id, so the helper can find the field's own wrapper.
  const amount = page.locator('#otro');
  await amount.fill('10000.01');
  await expect(page.getByLabel('Efectivo en OXXO (hasta $10,000.00 por referencia)')).toBeChecked();
  await page.getByRole('button', { name: 'Continuar' }).click();
  await expectFieldError(page, amount, /hasta \$10,000\.00 por referencia/);

  await amount.fill('25.50');
  await page.getByRole('button', { name: 'Continuar' }).click();
  const card = page.getByRole('region', { name: 'Tu referencia para pagar en OXXO' });
  await expect(card).toBeVisible();
  const shown = (await card.locator('.reference code').innerText()).trim();
  const reference = shown.replace(/\s/g, '');
  expect(reference).toMatch(/^\d{14}$/);
  await expect(card.locator('.amount')).toHaveText('$25.50');
  // The barcode image loads; sharing and saving are there.
  const barcode = card.getByRole('img', { name: `Código de barras de la referencia ${shown}` });
  await expect(barcode).toBeVisible();
  await expect.poll(() => barcode.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  const share = await card.getByRole('link', { name: 'Compartir por WhatsApp' }).getAttribute('href');
  expect(share).toMatch(/^https:\/\/wa\.me\/\?text=/);
  expect(decodeURIComponent(share!)).toContain(shown);
  await expect(card.getByRole('link', { name: 'Guardar imagen' })).toHaveAttribute('download', `referencia-${reference}.png`);
  await checkA11y(page, 'OXXO reference');

  // The dashboard lists it as pending (and keeps it for offline use).
  await open(page, '/cuenta');
  await expect(page.getByRole('region', { name: 'Referencias por pagar en OXXO' })).toContainText(shown);

  // The till: the simulator marks it paid and delivers Conekta's signed webhooks, twice.
  const sims = await (await page.request.get('/dev/simuladores')).json();
  expect(sims.conekta, 'the development server runs the Conekta simulator').toBeTruthy();
  const paid = await page.request.post(`${sims.conekta}/sim/pay`, { data: { reference, duplicate: 2 } });
  expect(paid.status()).toBe(200);
  expect((await paid.json()).deliveries).toEqual([200, 200, 200, 200]);

  await expect
    .poll(
      async () => {
        await open(page, '/cuenta');
        return centavos(await page.locator('.balance .amount').innerText());
      },
      { message: 'the balance should drop by $25.50, once', timeout: 15_000 },
    )
    .toBe(before - 2550);
  await expect(page.getByRole('region', { name: 'Referencias por pagar en OXXO' })).toHaveCount(0);
  await open(page, '/cuenta/pagar');
  await expect(page.getByRole('region', { name: 'Tus referencias de pago' }).getByRole('row').filter({ hasText: shown })).toContainText('Pago confirmado');

  // The payment history lists it, with its receipt and the CSV export.
  await page.getByRole('link', { name: 'Ver mis pagos y recibos' }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/pagos');
  const row = page.getByRole('row').filter({ hasText: 'Efectivo en OXXO' }).filter({ hasText: '$25.50' });
  await expect(row).toHaveCount(1);
  const receipt = await row.getByRole('link', { name: /^Recibo del/ }).getAttribute('href');
  const pdf = await page.request.get(receipt!);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  const csv = await page.request.get('/cuenta/pagos.csv');
  expect(await csv.text()).toContain('Efectivo en OXXO,25.50,');
  await checkA11y(page, 'payment history');
});
