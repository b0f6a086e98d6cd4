import { expect, test } from '@playwright/test';
import { checkA11y, expectFieldError, requireEnv, staffSignIn } from './helpers';

// Domiciliación (issue #5): staff register a payer's mandate and generate the month's
// batch for the bank; the file downloads.
test.use({ viewport: { width: 1280, height: 900 }, hasTouch: false });

test('staff register a mandate and generate the month’s batch file', async ({ page }) => {
  await staffSignIn(page, 'facturacion@cea-qro.example');
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Domiciliación' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/domiciliacion');
  await expect(page.getByRole('heading', { level: 1, name: 'Domiciliación (pago automático)' })).toBeVisible();
  await checkA11y(page, 'direct debit page');

  const contract = requireEnv('SUPRA_E2E_CONTRACT2');
  // The utility's today (Querétaro), not UTC's: after 18:00 there UTC is already tomorrow,
  // and a signing date in the future is refused.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Mexico_City' }).format(new Date());
  await page.getByLabel('Número de contrato').fill(contract);
  await page.getByLabel('Titular de la cuenta').fill('María Hernández');
  await page.getByLabel('Monto máximo por cargo (pesos)').fill('800');
  await page.getByLabel('Fecha de firma (AAAA-MM-DD)').fill(today);
  // A CLABE with a wrong check digit: the reason next to the field.
  const clabe = page.locator('#clabe');
  await clabe.fill('646180110400000008');
  await page.getByRole('button', { name: 'Registrar', exact: true }).click();
  await expectFieldError(page, clabe, /dígito verificador/);

  await clabe.fill('646180110400000007');
  await page.getByRole('button', { name: 'Registrar', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Domiciliación registrada.' })).toBeVisible();
  const row = page.getByRole('region', { name: 'Domiciliaciones' }).getByRole('row').filter({ hasText: contract });
  await expect(row).toContainText('0007');
  await expect(row).not.toContainText('646180110400000007');

  await page.getByRole('button', { name: 'Generar lote del mes' }).click();
  const done = page.getByRole('status').filter({ hasText: /^Lote .*: \d+ cargos? por \$[\d,]+\.\d{2}\./ });
  await expect(done).toBeVisible();
  const href = await done.getByRole('link', { name: 'Descargar archivo para el banco' }).getAttribute('href');
  const file = await page.request.get(href!);
  expect(file.status()).toBe(200);
  const text = await file.text();
  expect(text.split(/\r?\n/)[0]).toMatch(/^H/);
  await checkA11y(page, 'direct debit batch');
});
