import { expect, test, type Page } from '@playwright/test';
import { expectFieldError, open, staffSignIn } from './helpers';

// Staff billing pages (desktop): tariffs, billing runs, adjustments.
const BILLING = 'facturacion@cea-qro.example';

async function openTariffEditor(page: Page): Promise<string> {
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Tarifas' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/tarifas');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tarifas');
  const rows = page.locator('table.tariffs tbody tr');
  expect(await rows.count(), 'the demo has 8 published tariffs').toBeGreaterThanOrEqual(8);
  await rows.first().getByRole('link', { name: /^Editar/ }).click();
  await page.waitForURL(/\/personal\/tarifas\/editar\?id=\d+$/);
  const editor = page.getByLabel('Archivo de tarifa (TOML)');
  await expect(editor).toBeVisible();
  const original = await editor.inputValue();
  expect(original).toContain('use_type');
  return original;
}

test('tariff editor: a Spanish error next to the field, and "Simular recibo"', async ({ page }) => {
  await staffSignIn(page, BILLING);
  const original = await openTariffEditor(page);
  const editor = page.getByLabel('Archivo de tarifa (TOML)');

  // An invalid tariff (a negative price) is refused with a 4xx and a Spanish message
  // tied to the field; nothing is saved.
  await editor.fill(original.replace(/price_per_m3 = [\d.]+/, 'price_per_m3 = -5'));
  const [res] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/staff/tariff_save'),
    page.getByRole('button', { name: 'Validar y guardar' }).click(),
  ]);
  expect(res.status()).toBe(422);
  await expectFieldError(page, editor, /price_per_m3.*no puede ser negativo/);
  await expect(page).toHaveURL(/\/personal\/tarifas\/editar\?id=\d+$/);

  // Broken TOML syntax: also next to the field.
  await editor.fill('name = ');
  await page.getByRole('button', { name: 'Validar y guardar' }).click();
  await expectFieldError(page, editor, /^El archivo no es TOML válido/);

  // "Simular recibo" with the text in the editor.
  await editor.fill(original);
  await page.getByLabel('Consumo (m³)').fill('25');
  await page.getByRole('button', { name: 'Simular recibo' }).click();
  const status = page.locator('.sim-status');
  await expect(status).toContainText('Recibo simulado');
  await expect(page.locator('.sim-lines .bill-line').first()).toBeVisible();
  await expect(page.locator('.sim-lines .bill-line').first()).toContainText(/\$[\d,]+\.\d{2}/);
  const total = page.locator('.sim-total');
  await expect(total).toHaveText(/^\$[\d,]+\.\d{2}$/);
  const at25 = await total.innerText();

  // Live: typing re-simulates after a short pause, no button needed.
  await page.getByLabel('Consumo (m³)').fill('60');
  await expect(total).not.toHaveText(at25);
  await page.getByLabel('Consumo (m³)').fill('mucho');
  await expect(page.locator('#sim-m3-error')).toContainText('m³');

  // Without JavaScript the button submits the page (GET) and the server simulates.
  const q = new URLSearchParams({ toml: original, m3: '25', accion: 'simular' });
  const html = await (await page.request.get(`/personal/tarifas/editar?${q}`)).text();
  expect(html).toContain('Recibo simulado');
  expect(html).toContain(at25);
});

test('billing pages are for facturación and administración only', async ({ page }) => {
  await staffSignIn(page, 'atencion@cea-qro.example');
  await expect(page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Tarifas' })).toHaveCount(0);
  for (const path of ['/personal/tarifas', '/personal/tarifas/editar', '/personal/facturacion']) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await expect(page.getByRole('alert')).toHaveText('No tienes permiso para ver esto.');
  }
  const sse = await page.request.get('/personal/facturacion/corridas/1/eventos');
  expect(sse.status()).toBe(403);
});

test('re-running October 2026 issues nothing twice, with live progress to "Terminada"', async ({ page }) => {
  test.setTimeout(120_000);
  await staffSignIn(page, BILLING);
  await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Facturación' }).click();
  await page.waitForURL((u) => u.pathname === '/personal/facturacion');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Facturación');
  const periodo = page.getByLabel('Periodo (AAAA-MM)');
  await expect(periodo).toHaveValue(/^\d{4}-\d{2}$/);

  // Spanish validation next to the field.
  await periodo.fill('octubre');
  await page.getByRole('button', { name: 'Iniciar corrida' }).click();
  await expectFieldError(page, periodo, 'AAAA-MM');

  await periodo.fill('2026-10');
  await page.getByRole('button', { name: 'Iniciar corrida' }).click();
  await page.waitForURL(/\/personal\/facturacion\/corridas\/\d+$/);
  const runUrl = new URL(page.url()).pathname;
  await expect(page.getByRole('heading', { level: 1 })).toContainText('octubre 2026');
  await expect(page.locator('progress#avance')).toBeVisible();
  await expect(page.locator('.progress-text')).toHaveAttribute('aria-live', 'polite');

  await expect(page.locator('.run-status')).toHaveText('Terminada', { timeout: 90_000 });
  await expect(page.locator('.run-issued')).toHaveText('0');
  const already = Number((await page.locator('.run-already').innerText()).replace(/,/g, ''));
  expect(already, 'contracts that already had their October bill').toBeGreaterThan(0);
  await expect(page.locator('.run-headline')).toContainText('No se emitió ningún recibo nuevo');
  await expect(page.locator('table.skipped')).toContainText('Ya tenían su recibo');

  // The progress events: JSON until the run is no longer running, then the stream ends.
  const ev = await page.request.get(`${runUrl}/eventos`);
  expect(ev.status()).toBe(200);
  expect(ev.headers()['content-type']).toContain('text/event-stream');
  expect(await ev.text()).toMatch(/^data: \{.*"status":"terminada".*\}$/m);

  // Without JavaScript the page shows the same state.
  const html = await (await page.request.get(runUrl)).text();
  expect(html).toContain('Terminada');

  // The run is listed.
  await open(page, '/personal/facturacion');
  await expect(page.locator(`table.runs a[href="${runUrl}"]`)).toBeVisible();
});

test('an invoice on the account page, its PDF, and a credit note with its reason', async ({ page }) => {
  await staffSignIn(page, BILLING);
  await page.getByLabel('Contrato, nombre, medidor, calle o teléfono').fill('nuñez');
  await page.getByRole('button', { name: 'Buscar' }).click();
  await page.waitForURL((u) => u.searchParams.get('q') === 'nuñez');
  const withMeter = page
    .locator('table.results tbody tr')
    .filter({ hasNot: page.locator('td:nth-child(4)', { hasText: /^—$/ }) });
  await withMeter.first().locator('td:first-child a').click();
  await page.waitForURL(/\/personal\/cuentas\/\d+$/);
  const invoices = page.locator('table.invoices tbody tr');
  await expect(invoices.first()).toBeVisible();
  const pdfHref = await invoices.first().getByRole('link', { name: /^PDF/ }).getAttribute('href');
  expect(pdfHref).toMatch(/^\/personal\/recibos\/\d+\/pdf$/);
  const pdf = await page.request.get(pdfHref!);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

  await invoices.first().locator('td:first-child a').click();
  await page.waitForURL(/\/personal\/recibos\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Recibo /);
  await expect(page.getByRole('heading', { level: 2, name: 'Ajuste o nota de crédito' })).toBeVisible();

  // The reason is mandatory.
  const importe = page.getByLabel('Importe (MXN)');
  const motivo = page.getByLabel('Motivo');
  await importe.fill('1.00');
  await page.getByRole('button', { name: 'Registrar', exact: true }).click();
  await expectFieldError(page, motivo, 'Escribe el motivo');

  await motivo.fill('Prueba e2e: bonificación por fuga reparada');
  await page.getByRole('button', { name: 'Registrar', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Registrado' })).toBeVisible();
  const adjustments = page.locator('table.adjustments');
  await expect(adjustments).toContainText('Nota de crédito');
  await expect(adjustments).toContainText('Prueba e2e: bonificación por fuga reparada');
  await expect(adjustments).toContainText('-$1.00');
});

test('without JavaScript, a refused form comes back with the message next to its field', async ({ page, baseURL }) => {
  await staffSignIn(page, BILLING);
  const res = await page.request.post('/api/staff/billing_start', {
    form: { periodo: '2030-01' },
    headers: { accept: 'text/html', referer: `${baseURL}/personal/facturacion` },
    maxRedirects: 0,
  });
  expect(res.status(), 'a plain form post is redirected back to its page').toBe(302);
  const location = res.headers()['location'];
  expect(location).toContain('/personal/facturacion?');
  expect(location).toContain('__err=');
  const html = await (await page.request.get(location)).text();
  expect(html).toMatch(/<p [^>]*id="periodo-error"[^>]*>El periodo enero 2030 todavía no termina/);
  expect(html).toContain('aria-describedby="periodo-ayuda periodo-error"');
});
