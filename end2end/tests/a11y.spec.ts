import { expect, test } from '@playwright/test';
import { PHONE, checkA11y, citizenContract, open, requestCode, staffSearch, staffSignIn, wrongCode } from './helpers';

test.describe('citizen pages (phone)', () => {
  test.use(PHONE);

  test('home, and the "Letra grande" toggle', async ({ page }) => {
    await open(page, '/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tu servicio de agua, en tu teléfono');
    await checkA11y(page, '/');

    const toggle = page.getByRole('button', { name: 'Letra grande' });
    const html = page.locator('html');
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await expect(html).not.toHaveClass(/(^|\s)letra-grande(\s|$)/);

    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(html).toHaveClass(/(^|\s)letra-grande(\s|$)/);
    await checkA11y(page, '/ with "Letra grande" on');

    // The preference is remembered on this device.
    await page.reload();
    await page.waitForLoadState('networkidle');
    await expect(html).toHaveClass(/(^|\s)letra-grande(\s|$)/);
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');

    // And it switches back off.
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await expect(html).not.toHaveClass(/(^|\s)letra-grande(\s|$)/);
  });

  test('sign-in steps, field errors and the dashboard', async ({ page }) => {
    const contract = citizenContract();

    await open(page, '/entrar');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Entrar a mi cuenta');
    await checkA11y(page, '/entrar (step 1)');

    // Step 1 with a field error (bad input does not use up a code).
    const contrato = page.getByLabel('Número de contrato');
    await contrato.fill('abc');
    await page.getByRole('button', { name: 'Enviarme un código' }).click();
    await expect(page.locator('#contrato-error')).toContainText('solo lleva números');
    await checkA11y(page, '/entrar (step 1, field error)');

    // Step 2: the code was sent.
    const code = await requestCode(page, contract);
    await checkA11y(page, '/entrar (step 2)');

    // Step 2 with a field error (one wrong attempt of three; then the right code).
    const codigo = page.getByLabel('Código de 6 números');
    const submit = page.getByRole('button', { name: 'Entrar', exact: true });
    await codigo.fill(wrongCode(code));
    await submit.click();
    await expect(page.locator('#codigo-error')).toContainText('El código no es correcto');
    await checkA11y(page, '/entrar (step 2, field error)');

    await codigo.fill(code);
    await submit.click();
    await page.waitForURL('**/cuenta');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mi cuenta');
    await expect(page.locator('table.consumption tbody tr').first()).toBeVisible();
    await checkA11y(page, '/cuenta (signed in, after client-side navigation)');

    // Server-rendered /cuenta too (full page load).
    await open(page, '/cuenta');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mi cuenta');
    await checkA11y(page, '/cuenta (signed in, full load)');

    // 200 % zoom on a phone-width screen: nothing wider than the viewport (WCAG 1.4.10).
    await page.evaluate(() => {
      document.documentElement.style.zoom = '2';
    });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, '/cuenta at 200 % zoom scrolls sideways').toBeLessThanOrEqual(0);
    await page.evaluate(() => {
      document.documentElement.style.zoom = '';
    });

    // /sin-conexion with this device's saved dashboard.
    await open(page, '/sin-conexion');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    // Give the saved dashboard (IndexedDB) a moment to replace the fallback; its
    // presence is the citizen spec's business, here only its accessibility counts.
    await page.locator('.contract-number').waitFor({ timeout: 5_000 }).catch(() => {});
    await checkA11y(page, '/sin-conexion (with saved data)');

    // Adding another contract (signed in).
    await open(page, '/cuenta/agregar');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Agregar otro contrato');
    await checkA11y(page, '/cuenta/agregar');

    // Bills: the list, filtered, and one bill with its explanation open.
    await open(page, '/cuenta/recibos');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mis recibos');
    await checkA11y(page, '/cuenta/recibos');
    await open(page, '/cuenta/recibos?estado=pendientes');
    await checkA11y(page, '/cuenta/recibos?estado=pendientes');
    await open(page, '/cuenta/recibos?estado=pagados');
    await checkA11y(page, '/cuenta/recibos?estado=pagados');
    await open(page, '/cuenta/recibos?estado=todos');
    const bill = page.locator('table.bills tbody tr a').first();
    await expect(bill).toBeVisible();
    const href = (await bill.getAttribute('href'))!;
    await open(page, href);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Recibo de /);
    await checkA11y(page, '/cuenta/recibos/<id>');
    await page.locator('details.how summary').first().click();
    await checkA11y(page, '/cuenta/recibos/<id> with "¿Cómo se calculó?" open');
    // The offline page showing the saved bills (rendered from IndexedDB).
    await page.locator('.saved-note').waitFor({ timeout: 15_000 }).catch(() => {});
    await open(page, `/sin-conexion?ruta=${encodeURIComponent(href)}`);
    await page.locator('.bill-line').first().waitFor({ timeout: 5_000 }).catch(() => {});
    await checkA11y(page, '/sin-conexion?ruta=/cuenta/recibos/<id>');
    await open(page, '/sin-conexion?ruta=%2Fcuenta%2Frecibos');
    await page.locator('table.bills').waitFor({ timeout: 5_000 }).catch(() => {});
    await checkA11y(page, '/sin-conexion?ruta=/cuenta/recibos');
  });

  test('not-found page and the development outbox', async ({ page }) => {
    const res = await page.goto('/no-existe');
    expect(res?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('No encontramos esa página');
    await checkA11y(page, '404');

    await page.goto('/dev/outbox');
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Mensajes enviados');
    await checkA11y(page, '/dev/outbox');
  });

  test('offline page without saved data', async ({ page }) => {
    await open(page, '/sin-conexion');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sin conexión');
    await checkA11y(page, '/sin-conexion (nothing saved)');
  });
});

test.describe('staff pages (desktop)', () => {
  test('sign-in, search results and an account', async ({ page }) => {
    await open(page, '/personal/entrar');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Acceso del personal');
    await checkA11y(page, '/personal/entrar');

    await staffSignIn(page, 'atencion@cea-qro.example');
    await checkA11y(page, '/personal (empty search)');

    await staffSearch(page, 'nuñez');
    const first = page.locator('table.results tbody tr').first().locator('a');
    await expect(first).toBeVisible();
    await checkA11y(page, '/personal with results');

    await first.click();
    await page.waitForURL(/\/personal\/cuentas\/\d+$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Contrato /);
    await checkA11y(page, '/personal/cuentas/<id>');

    // An invoice (no adjustments for this role) and a billing page it may not see.
    const invoice = page.locator('table.invoices tbody tr td:first-child a').first();
    if (await invoice.count()) {
      await open(page, (await invoice.getAttribute('href'))!);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Recibo /);
      await checkA11y(page, '/personal/recibos/<id> (atención)');
    }
    const res = await page.goto('/personal/tarifas');
    expect(res?.status()).toBe(403);
    await checkA11y(page, '/personal/tarifas (403)');
  });

  test('billing pages (facturación)', async ({ page }) => {
    test.setTimeout(120_000);
    await staffSignIn(page, 'facturacion@cea-qro.example');

    await open(page, '/personal/tarifas');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tarifas');
    await checkA11y(page, '/personal/tarifas');

    await open(page, (await page.locator('table.tariffs tbody tr a').first().getAttribute('href'))!);
    const editor = page.getByLabel('Archivo de tarifa (TOML)');
    const original = await editor.inputValue();
    await checkA11y(page, '/personal/tarifas/editar?id=<id>');
    await page.getByLabel('Consumo (m³)').fill('23');
    await page.getByRole('button', { name: 'Simular recibo' }).click();
    await expect(page.locator('.sim-status')).toContainText('Recibo simulado');
    await checkA11y(page, '/personal/tarifas/editar with a simulation');
    await editor.fill(original.replace(/valid_from = .*/, 'valid_from = "2026-02-30"'));
    await page.getByRole('button', { name: 'Validar y guardar' }).click();
    await expect(page.locator('#toml-error')).toBeVisible();
    await checkA11y(page, '/personal/tarifas/editar with a field error');

    await open(page, '/personal/tarifas/editar');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Nueva versión de tarifa');
    await checkA11y(page, '/personal/tarifas/editar (new)');

    await open(page, '/personal/facturacion');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Facturación');
    await checkA11y(page, '/personal/facturacion');
    await open(page, (await page.locator('table.runs tbody tr a').first().getAttribute('href'))!);
    await expect(page.locator('.run-status')).toBeVisible();
    await checkA11y(page, '/personal/facturacion/corridas/<id>');

    await open(page, '/personal');
    await staffSearch(page, 'nuñez');
    await open(page, (await page.locator('table.results tbody tr a').first().getAttribute('href'))!);
    await checkA11y(page, '/personal/cuentas/<id> (facturación)');
    const invoice = page.locator('table.invoices tbody tr td:first-child a').first();
    await open(page, (await invoice.getAttribute('href'))!);
    await expect(page.getByRole('heading', { level: 2, name: 'Ajuste o nota de crédito' })).toBeVisible();
    await checkA11y(page, '/personal/recibos/<id> with the adjustment form');
    await page.getByRole('button', { name: 'Registrar', exact: true }).click();
    await expect(page.locator('#importe-error')).toBeVisible();
    await checkA11y(page, '/personal/recibos/<id> with field errors');
  });
});
