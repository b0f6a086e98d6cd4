import { expect, test, type Page } from '@playwright/test';
import { checkA11y, expectFieldError, open, staffSignIn } from './helpers';

// Staff CFDI pages (desktop). The demo's October billing run asked for its CFDIs; the
// server's fiscal worker seals them with the demo CSD and stamps them through the
// development PAC simulator on its own.
const BILLING = 'facturacion@cea-qro.example';

/** Reload /personal/cfdi until no document waits for the PAC. */
async function waitUntilStamped(page: Page): Promise<void> {
  await expect
    .poll(
      async () => {
        await open(page, '/personal/cfdi');
        const stamping = page.getByRole('region', { name: 'Timbrado' });
        const text = await stamping.innerText();
        return /\bTimbrado\b/.test(text) && !/en cola para timbrar/.test(text);
      },
      { message: 'the fiscal worker should stamp the October bills', timeout: 50_000, intervals: [1_000] },
    )
    .toBe(true);
}

/** Open the newest stamped Ingreso from the filtered list. */
async function openStampedBill(page: Page): Promise<void> {
  await open(page, '/personal/cfdi?estado=timbrado&tipo=I');
  const first = page.locator('table.results tbody tr').first();
  await expect(first).toContainText('Timbrado');
  await first.getByRole('link').click();
  await page.waitForURL(/\/personal\/cfdi\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^CFDI A-.+ · Ingreso$/);
}

test('CFDI list: CSD status, stamping, filters with a Spanish error', async ({ page }) => {
  test.setTimeout(90_000);
  await staffSignIn(page, BILLING);
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'CFDI' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/cfdi');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Facturas electrónicas (CFDI)');

  const csd = page.getByRole('region', { name: 'Certificado de sello digital (CSD)' });
  await expect(csd).toContainText('CEA800101QR2');
  await expect(csd).toContainText(/Vigente hasta.*\(\d+ días\)/s);
  // The demo's self-made certificate says who issued it: not SAT.
  await expect(csd).toContainText(/no emitido por el SAT/i);
  await expect(page.getByRole('region', { name: 'Timbrado' })).toContainText('simulador local');

  await waitUntilStamped(page);
  await checkA11y(page, 'CFDI list');

  // Filters: only stamped Ingresos, all of them "Timbrado".
  await page.getByLabel('Estado').selectOption('timbrado');
  await page.getByLabel('Tipo').selectOption('I');
  await page.getByLabel('Periodo (AAAA-MM)').fill('2026-10');
  await page.getByRole('button', { name: 'Filtrar' }).click();
  await page.waitForURL(/estado=timbrado/);
  const rows = page.locator('table.results tbody tr');
  await expect(rows.first()).toBeVisible();
  const n = await rows.count();
  expect(n).toBeGreaterThan(10);
  for (const text of await rows.allInnerTexts()) expect(text).toContain('Timbrado');

  // A period written wrong is explained in Spanish, not a crash.
  await page.getByLabel('Periodo (AAAA-MM)').fill('octubre');
  await page.getByRole('button', { name: 'Filtrar' }).click();
  await expect(page.locator('#filtro-error')).toHaveText(/AAAA-MM/);
});

test('cancelling a CFDI: motivo rules next to the fields, then SAT cancels it', async ({ page }) => {
  test.setTimeout(90_000);
  await staffSignIn(page, BILLING);
  await waitUntilStamped(page);
  await openStampedBill(page);
  const url = page.url();
  await checkA11y(page, 'CFDI page');

  const note = page.getByLabel('Por qué se cancela');
  const replacement = page.getByLabel('Folio fiscal del CFDI que lo sustituye');
  // No note: refused next to the note, with a 4xx.
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/staff/cfdi_cancel'),
    page.getByRole('button', { name: 'Solicitar cancelación' }).click(),
  ]);
  expect(res.status()).toBeGreaterThanOrEqual(400);
  expect(res.status()).toBeLessThan(500);
  await expectFieldError(page, note, /^Escriba por qué se cancela/);
  // Motivo 01 needs the replacement's UUID.
  await page.getByLabel('Motivo (catálogo del SAT)').selectOption('01');
  await note.fill('El nombre del usuario estaba mal escrito');
  await page.getByRole('button', { name: 'Solicitar cancelación' }).click();
  await expectFieldError(page, replacement, /requiere el folio fiscal/);
  await replacement.fill('no-es-un-uuid');
  await page.getByRole('button', { name: 'Solicitar cancelación' }).click();
  await expectFieldError(page, replacement, /no es un folio fiscal/);

  // Motivo 02: accepted, sent by the worker; público en general cancels at once.
  await replacement.fill('');
  await page.getByLabel('Motivo (catálogo del SAT)').selectOption('02');
  await page.getByRole('button', { name: 'Solicitar cancelación' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Solicitud registrada' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Solicitudes de cancelación' })).toBeVisible();
  await expect
    .poll(
      async () => {
        await open(page, url);
        return page.locator('dl.facts').first().innerText();
      },
      { message: 'the worker should send the request and SAT cancel it', timeout: 30_000, intervals: [1_000] },
    )
    .toMatch(/Estado\s+Cancelado/);
  const history = page.locator('table.results tbody tr').first();
  await expect(history).toContainText('02 · Comprobante emitido con errores sin relación');
  await expect(history).toContainText('El nombre del usuario estaba mal escrito');
  await expect(history).toContainText('Cancelado sin aceptación');
  // No second cancellation form for a cancelled CFDI.
  await expect(page.getByRole('button', { name: 'Solicitar cancelación' })).toHaveCount(0);
});

test('a payment at the counter gets its Complemento de Pago', async ({ page }) => {
  test.setTimeout(90_000);
  await staffSignIn(page, BILLING);
  await waitUntilStamped(page);
  await openStampedBill(page);
  await page.getByRole('link', { name: 'Ver el recibo' }).click();
  await page.waitForURL(/\/personal\/recibos\/\d+$/);
  const url = page.url();

  const amount = page.getByLabel('Importe recibido (MXN)');
  await amount.fill('mucho');
  await page.getByRole('button', { name: 'Registrar pago' }).click();
  await expectFieldError(page, amount, /importe/i);

  await amount.fill('10.00');
  await page.getByLabel('Forma de pago').selectOption('01');
  await page.getByRole('button', { name: 'Registrar pago' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Pago registrado (parcialidad 1)' })).toBeVisible();
  const payments = page.getByRole('region', { name: 'Pagos aplicados a este recibo' });
  await expect(payments).toContainText('$10.00');
  await expect
    .poll(
      async () => {
        await open(page, url);
        return page.getByRole('region', { name: 'Pagos aplicados a este recibo' }).innerText();
      },
      { message: 'the worker should seal and stamp the Complemento de Pago', timeout: 30_000, intervals: [1_000] },
    )
    .toMatch(/Timbrado · [0-9A-F-]{36}/);
  await checkA11y(page, 'bill with a payment');
});
