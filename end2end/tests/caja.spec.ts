import { expect, test } from '@playwright/test';
import { checkA11y, expectFieldError, requireEnv, staffSignIn } from './helpers';

// Ventanilla (issue #5): a cashier opens the drawer, takes a cash payment, prints the
// 80 mm receipt and closes the day with the corte de caja.
test.use({ viewport: { width: 1280, height: 900 }, hasTouch: false });

test('a cashier opens the drawer, takes a payment, prints the receipt and closes with the corte', async ({ page }) => {
  await staffSignIn(page, 'cajero@cea-qro.example');
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Caja' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/caja');
  await expect(page.getByRole('heading', { level: 1, name: 'Caja' })).toBeVisible();

  await page.getByLabel('Fondo inicial en efectivo (pesos)').fill('200');
  await page.getByRole('button', { name: 'Abrir caja' }).click();
  await expect(page.getByRole('heading', { name: 'Cobrar' })).toBeVisible();
  await checkA11y(page, 'cash desk');

  // A cheque without its number: the reason next to the field.
  await page.getByLabel('Número de contrato').fill(requireEnv('SUPRA_E2E_CONTRACT2'));
  await page.getByLabel('Importe recibido (pesos)').fill('50');
  await page.getByLabel('Cheque', { exact: true }).check();
  await page.getByRole('button', { name: 'Registrar cobro' }).click();
  await expectFieldError(page, page.locator('#cheque'), /número del cheque/);

  await page.getByLabel('Efectivo', { exact: true }).check();
  await page.getByRole('button', { name: 'Registrar cobro' }).click();
  const done = page.getByRole('status').filter({ hasText: 'Cobro registrado: $50.00' });
  await expect(done).toBeVisible();
  const receipt = done.getByRole('link', { name: /Imprimir recibo/ });
  const href = await receipt.getAttribute('href');
  const pdf = await page.request.get(href!);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  await expect(page.getByRole('region', { name: 'Cobros de esta caja' }).getByRole('row')).toHaveCount(2);

  // Corte: 200 float + 50 cash = 250 expected.
  await page.getByLabel('Efectivo contado (pesos)').fill('250');
  await page.getByRole('button', { name: 'Cerrar caja' }).click();
  const corte = page.getByRole('region', { name: 'Último corte de caja' });
  await expect(corte).toBeVisible();
  await expect(corte.locator('.discrepancy')).toHaveText('$0.00');
  await expect(corte).toContainText('$250.00');
  await checkA11y(page, 'corte de caja');
});

test('reconciliation: a day run on demand, with its report and drill-down', async ({ page }) => {
  await staffSignIn(page, 'facturacion@cea-qro.example');
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Conciliación' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/conciliacion');
  const dia = page.getByLabel('Día (AAAA-MM-DD)');
  await dia.fill('ayer');
  await page.getByRole('button', { name: 'Conciliar' }).click();
  await expectFieldError(page, page.locator('#dia'), /AAAA-MM-DD/);

  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Mexico_City' }).format(new Date());
  await dia.fill(today);
  await page.getByRole('button', { name: 'Conciliar' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Conciliación terminada' })).toBeVisible();
  const runs = page.getByRole('region', { name: 'Conciliaciones recientes' });
  await expect(runs.getByRole('link', { name: `${today} · SPEI (STP)` })).toBeVisible();
  await checkA11y(page, 'reconciliation');
  await runs.getByRole('link', { name: `${today} · OXXO y tarjeta (Conekta)` }).first().click();
  await expect(page.getByRole('region', { name: `OXXO y tarjeta (Conekta) · ${today}` })).toBeVisible();
  await checkA11y(page, 'reconciliation detail');
});
