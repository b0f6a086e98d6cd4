import { expect, test, type Page } from '@playwright/test';
import { OFFLINE_BANNER, PHONE, billsContract, signInCitizen } from './helpers';

// Citizen pages are phone-first: an Android phone viewport. One sign-in for the whole
// flow (codes are limited to 3 per contract per 15 minutes).
test.use(PHONE);

/** The status badges of the rows shown in the bills table. */
async function statuses(page: Page): Promise<string[]> {
  return (await page.locator('table.bills tbody .badge').allInnerTexts()).map((s) => s.trim());
}

async function filterBy(page: Page, name: string, code: string): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Filtrar recibos' }).getByRole('link', { name, exact: true });
  await link.click();
  await page.waitForURL((u) => u.pathname === '/cuenta/recibos' && u.searchParams.get('estado') === code);
  await expect(link).toHaveAttribute('aria-current', 'page');
}

test('bills: list and filter, one bill with its explanation and PDF, then offline from the phone', async ({
  page,
  context,
  browser,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const contract = await billsContract(browser, baseURL);
  await signInCitizen(page, contract);

  // From the dashboard to the list.
  await page.getByRole('link', { name: 'Ver mis recibos' }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/recibos');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mis recibos');
  const rows = page.locator('table.bills tbody tr');
  await expect(rows.first()).toBeVisible();
  const all = await rows.count();
  expect(all, 'the demo bills May–October 2026').toBeGreaterThanOrEqual(2);
  // Each row: period (link to the bill), total, status in words, due date.
  const cells = await rows.first().locator('th, td').allInnerTexts();
  expect(cells[0]).toMatch(/^[a-z]+ 2026$/);
  expect(cells[1]).toMatch(/^\$[\d,]+\.\d{2}$/);
  expect(cells[2].trim()).toMatch(/^(Por pagar|Pagado|Pago parcial|Vencido|Cancelado)$/);
  expect(cells[3]).toMatch(/^\d{1,2} [a-z]{3} \d{4}$/);

  // Unpaid, then paid: the filter is a link (no JavaScript needed) and the two views
  // split the list.
  await filterBy(page, 'Por pagar', 'pendientes');
  const pending = await statuses(page);
  expect(pending.every((s) => s !== 'Pagado' && s !== 'Cancelado'), `pending: ${pending}`).toBe(true);
  await filterBy(page, 'Pagados', 'pagados');
  const paid = await statuses(page);
  expect(paid.every((s) => s === 'Pagado'), `paid: ${paid}`).toBe(true);
  expect(pending.length + paid.length).toBeLessThanOrEqual(all);
  // The server renders the same filter for a browser without JavaScript.
  const html = await (await page.request.get('/cuenta/recibos?estado=pagados')).text();
  expect(html).not.toMatch(/class="badge badge-(emitida|vencida|parcial)"/);
  await filterBy(page, 'Todos', 'todos');
  await expect(rows).toHaveCount(all);

  // The newest bill.
  const newest = rows.first().getByRole('link');
  const period = (await newest.innerText()).trim();
  await newest.click();
  await page.waitForURL(/\/cuenta\/recibos\/\d+$/);
  const id = /\/cuenta\/recibos\/(\d+)$/.exec(page.url())![1];
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Recibo de ${period}`);
  await expect(page.locator('.due-date')).toHaveText(/^\d{1,2} [a-z]{3} \d{4}$/);
  await expect(page.locator('.amount-due')).toHaveText(/^\$[\d,]+\.\d{2}$/);
  await expect(page.locator('.billed-m3')).toHaveText(/m³$/);
  const lines = page.locator('.bill-line');
  await expect(lines.first()).toBeVisible();
  await expect(lines.first().locator('.line-meta')).toContainText(/IVA|Exento|No objeto/);
  const how = page.locator('details.how').first();
  await how.getByText('¿Cómo se calculó?').click();
  await expect(how.locator('tbody tr').first()).toBeVisible();
  if (await page.locator('.notice.estimated').count()) {
    await expect(page.locator('.notice.estimated')).toContainText('Consumo estimado');
  }

  // The PDF.
  const pdfLink = page.getByRole('link', { name: /Descargar recibo \(PDF\)/ });
  await expect(pdfLink).toHaveAttribute('href', `/cuenta/recibos/${id}/pdf`);
  const pdf = await page.request.get(`/cuenta/recibos/${id}/pdf`);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()['content-type']).toBe('application/pdf');
  expect(pdf.headers()['content-disposition']).toMatch(/^inline; filename="recibo-[\w-]+\.pdf"$/);
  expect(pdf.headers()['cache-control']).toBe('private, no-cache');
  expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  // Someone else's bill, or none: 404 (never another person's data).
  expect((await page.request.get('/cuenta/recibos/999999999/pdf')).status()).toBe(404);

  // Saved on the phone (IndexedDB: the bill and its PDF).
  await expect(page.locator('.saved-note')).toBeVisible({ timeout: 30_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // No signal: the bill is still there, marked offline (the /healthz probe fails),
  // and the PDF link opens the saved copy.
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Recibo de ${period}`);
  const banner = page.locator('.offline-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveText(OFFLINE_BANNER);
  await expect(lines.first()).toBeVisible();
  const offlineLink = page.getByRole('link', { name: /Descargar recibo \(PDF\)/ });
  await expect(offlineLink).toHaveAttribute('href', /^blob:/);
  const href = (await offlineLink.getAttribute('href'))!;
  const head = await page.evaluate(async (u) => {
    const bytes = new Uint8Array(await (await fetch(u)).arrayBuffer());
    return String.fromCharCode(...bytes.slice(0, 5));
  }, href);
  expect(head).toBe('%PDF-');

  // The list too, from what the phone saved.
  await page.goto('/cuenta/recibos?estado=todos');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mis recibos');
  await expect(page.locator('.offline-banner')).toHaveText(OFFLINE_BANNER);
  await expect(page.locator('table.bills tbody tr')).toHaveCount(all);
  await context.setOffline(false);
});

test('bills need a signed-in citizen', async ({ page }) => {
  const res = await page.request.get('/cuenta/recibos/1/pdf', { headers: { accept: 'application/pdf' } });
  expect(res.status()).toBe(401);
  const html = await page.request.get('/cuenta/recibos/1/pdf', { headers: { accept: 'text/html' }, maxRedirects: 0 });
  expect(html.status()).toBe(302);
  expect(html.headers()['location']).toBe('/entrar');
  await page.goto('/cuenta/recibos');
  await expect(page).toHaveURL(/\/entrar$/);
});
