import { expect, test } from '@playwright/test';
import { checkA11y, open, staffSearch, staffSignIn } from './helpers';

// Staff side of meter ingest: a lecturista's route file uploaded through the page (no
// JavaScript needed: a multipart form), its per-row report, the meter page showing
// the stored visit, and the anomalies queue — each page scanned with axe.
test.describe('meter readings (campo, desktop)', () => {
  test('route file upload, its report, the meter page and the anomalies queue', async ({ page }) => {
    test.setTimeout(120_000);
    await staffSignIn(page, 'campo@cea-qro.example');

    // A meter to visit: the first account among the results that has one.
    await staffSearch(page, 'nuñez');
    const accounts = page.locator('table.results tbody tr td a');
    const hrefs = await accounts.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')!));
    let meterHref = '';
    for (const href of hrefs.slice(0, 8)) {
      await open(page, href);
      const link = page.getByRole('link', { name: 'Ver lecturas del medidor' });
      if (await link.count()) {
        meterHref = (await link.getAttribute('href'))!;
        break;
      }
    }
    expect(meterHref, 'an account with a meter among the first results').toMatch(/^\/personal\/medidores\/\d+$/);
    await open(page, meterHref);
    const serial = (await page.getByRole('heading', { level: 1 }).innerText()).replace(/^Medidor /, '').trim();
    await checkA11y(page, '/personal/medidores/<id>');

    await open(page, '/personal/lecturas');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Lecturas');
    await checkA11y(page, '/personal/lecturas');

    const at = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const csv =
      'medidor;lectura;fecha;observación\n' +
      `${serial};;${at};sin acceso\n` +
      `NOEXISTE-9;12,5;${at};\n` +
      `${serial};10;mañana;\n`;
    await page.getByLabel('Archivo de la ruta', { exact: true }).setInputFiles({
      name: 'ruta-e2e.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv, 'utf8'),
    });
    await page.getByRole('button', { name: 'Subir ruta' }).click();
    await page.waitForURL(/\/personal\/lecturas\/lotes\/\d+$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Ruta «ruta-e2e.csv»');
    // The page refreshes itself while the file is processed.
    await expect(page.getByRole('status').filter({ hasText: 'filas' })).toHaveText(
      /3 filas; 1 aceptadas, 0 repetidas, 2 rechazadas\./,
      { timeout: 30_000 },
    );
    const issues = page.locator('table.route-report tbody');
    await expect(issues).toContainText('NOEXISTE-9');
    await expect(issues).toContainText('no está registrado');
    await expect(issues).toContainText('mañana');
    await expect(page.getByRole('link', { name: 'Descargar el reporte por fila (CSV)' })).toBeVisible();
    await checkA11y(page, '/personal/lecturas/lotes/<id>');

    // The visit without a reading is on the meter's page, once.
    await open(page, meterHref);
    const rows = page.getByRole('table', { name: 'Lecturas' }).locator('tbody tr').filter({ hasText: /sin acceso/i });
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('Lecturista');

    await open(page, '/personal/anomalias');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Anomalías de consumo');
    await page.getByRole('button', { name: 'Buscar ahora' }).click();
    await expect(page.getByRole('status').filter({ hasText: /medidor/i })).toBeVisible();
    await checkA11y(page, '/personal/anomalias');
  });
});
