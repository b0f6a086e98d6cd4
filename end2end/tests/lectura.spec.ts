import { expect, test, type Browser, type Page } from '@playwright/test';
import { PHONE, STAFF_PASSWORD, checkA11y, expectFieldError, open, signInCitizen, staffSignIn } from './helpers';

// Citizen pages are phone-first: an Android phone viewport. One sign-in for the whole
// flow (codes are limited to 3 per contract per 15 minutes).
test.use(PHONE);

/** "1,234.5 m³" → 1234500 litres (integer arithmetic, as the app does). */
function litresOf(label: string): number {
  const t = label.replace(/,/g, '').replace(/\s*m³.*$/, '').trim();
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 1000 + Number((frac + '000').slice(0, 3));
}

/** 1237750 → "1237.750": what a person types, and what the staff meter page shows. */
function m3Text(litres: number): string {
  return `${Math.floor(litres / 1000)}.${String(litres % 1000).padStart(3, '0')}`;
}

/** 1237750 → "1,237.75 m³" (es-MX, as the citizen pages show it). */
function m3Label(litres: number): string {
  const whole = Math.floor(litres / 1000).toLocaleString('en-US');
  const frac = String(litres % 1000).padStart(3, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} m³`;
}

/**
 * A contract for this spec that no other spec signs in with (3 codes per contract per
 * 15 minutes): SUPRA_E2E_CONTRACT5 when set, else an active domestic contract with a
 * meter and a phone, found through the staff search, that is none of the contracts the
 * other specs use. Also returns its meter's staff page.
 */
async function readingContract(browser: Browser, baseURL: string | undefined): Promise<{ number: string; meterHref: string }> {
  const wanted = process.env.SUPRA_E2E_CONTRACT5?.trim();
  const taken = new Set(
    ['', '2', '3', '4'].map((n) => process.env[`SUPRA_E2E_CONTRACT${n}`]?.trim()).filter((c): c is string => !!c),
  );
  const ctx = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    await page.goto('/personal/entrar');
    await page.getByLabel('Correo').fill('atencion@cea-qro.example');
    await page.getByLabel('Contraseña').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Entrar', exact: true }).click();
    await page.waitForURL(/\/personal(\?.*)?$/);
    const queries = wanted ? [wanted] : ['garcia', 'hernandez', 'martinez', 'lopez'];
    for (const q of queries) {
      await page.goto(`/personal?q=${encodeURIComponent(q)}`);
      const rows = page.locator('table.results tbody tr');
      const n = await rows.count();
      const candidates: { number: string; href: string }[] = [];
      for (let i = 0; i < n; i++) {
        const cells = await rows.nth(i).locator('td').allInnerTexts();
        // Contrato, Titular, Dirección, Medidor, Uso, Estado
        const link = rows.nth(i).locator('td:first-child a');
        const number = (await link.innerText()).trim();
        if (wanted ? number !== wanted : taken.has(number)) continue;
        if (!wanted && (cells[3]?.trim() === '—' || cells[4]?.trim() !== 'Doméstico' || cells[5]?.trim() !== 'Activo')) continue;
        candidates.push({ number, href: (await link.getAttribute('href')) ?? '' });
      }
      for (const c of candidates.slice(-10).reverse()) {
        await page.goto(c.href);
        const phone = (await page.locator('dt:text-is("Teléfono") + dd').innerText()).trim();
        const meter = page.getByRole('link', { name: 'Ver lecturas del medidor' });
        if ((wanted || phone !== '—') && (await meter.count()) === 1) {
          return { number: c.number, meterHref: (await meter.getAttribute('href')) ?? '' };
        }
      }
    }
    throw new Error('no active domestic contract with a meter and a phone found; set SUPRA_E2E_CONTRACT5');
  } finally {
    await ctx.close();
  }
}

/** The readings saved on this phone (IndexedDB `supra` / `lecturas`). */
async function queued(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const req = indexedDB.open('supra');
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('lecturas')) return resolve(-1);
          const count = db.transaction('lecturas').objectStore('lecturas').count();
          count.onsuccess = () => {
            resolve(count.result);
            db.close();
          };
        };
        req.onerror = () => resolve(-1);
      }),
  );
}

test('self-read: queued without signal, sent once when it comes back; consumption chart and table', async ({
  page,
  context,
  browser,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const { number, meterHref } = await readingContract(browser, baseURL);
  expect(meterHref).toMatch(/^\/personal\/medidores\/\d+$/);
  await signInCitizen(page, number);

  // The dashboard leads to both new pages.
  await expect(page.getByRole('link', { name: 'Ver mi consumo' }).first()).toBeVisible();
  await page.getByRole('link', { name: 'Enviar mi lectura' }).first().click();
  await page.waitForURL((u) => u.pathname === '/cuenta/lectura');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Enviar mi lectura');
  await expect(page.locator('.contract-number')).toHaveText(number);
  const lastText = (await page.locator('.last-reading').innerText()).split(' el ')[0];
  const reading = litresOf(lastText) + 3_250;
  const field = page.getByLabel('Lectura del medidor (m³)', { exact: true });
  await expect(page.getByLabel('Fecha y hora de la lectura', { exact: true })).toHaveValue(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
  await expect(page.getByLabel('Foto del medidor (opcional)', { exact: true })).toBeVisible();
  await checkA11y(page, '/cuenta/lectura');

  // A typo is caught next to the field, before anything is sent or saved.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await field.fill('12,5.3');
  await page.getByRole('button', { name: 'Enviar lectura' }).click();
  await expectFieldError(page, field, 'Escribe la lectura en metros cúbicos');
  await checkA11y(page, '/cuenta/lectura with a field error');

  // No signal: the reading is kept on the phone.
  await context.setOffline(true);
  await field.fill(m3Text(reading));
  await page.getByRole('button', { name: 'Enviar lectura' }).click();
  const status = page.locator('.self-read-status');
  await expect(status).toHaveText('Guardada; se enviará cuando tengas señal.');
  await expect(page.getByRole('status').filter({ hasText: 'Guardada' })).toBeVisible();
  const list = page.locator('.queued-read');
  await expect(list).toHaveCount(1);
  await expect(list.first()).toContainText(m3Label(reading));
  await expect(list.first()).toContainText('Pendiente de enviar');
  expect(await queued(page)).toBe(1);
  await expect(field).toHaveValue('');
  await checkA11y(page, '/cuenta/lectura with a reading saved offline');

  // The signal comes back: the queue is sent (the page on `online`, and the service
  // worker's Background Sync, with the same key) and empties.
  await context.setOffline(false);
  await expect(status).toHaveText('Enviamos tu lectura guardada.', { timeout: 30_000 });
  await expect(list).toHaveCount(0);
  await expect.poll(() => queued(page)).toBe(0);

  // "Mi consumo": the chart (an image with its description) and, as a link that works
  // without JavaScript, the table.
  await page.getByRole('link', { name: 'Ver mi consumo' }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/consumo');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mi consumo');
  const chart = page.getByRole('img', { name: 'Consumo por periodo, en metros cúbicos', exact: true });
  await expect(chart).toBeVisible();
  await expect(chart.locator('desc')).toContainText('Consumo de agua por periodo');
  await expect(chart.locator('rect title')).toHaveCount(13);
  await expect(page.locator('ul.comparison li').first()).toContainText('(periodo en curso) llevas');
  await checkA11y(page, '/cuenta/consumo (chart)');
  await page.getByRole('navigation', { name: 'Ver el consumo como' }).getByRole('link', { name: 'Tabla', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/cuenta/consumo' && u.searchParams.get('vista') === 'tabla');
  const table = page.getByRole('table', { name: 'Consumo por periodo, en metros cúbicos' });
  await expect(table).toBeVisible();
  await expect(table.locator('tbody tr')).toHaveCount(13);
  const running = table.locator('tbody tr').first();
  await expect(running.locator('th')).toContainText('(en curso)');
  await expect(running.locator('td').first()).toHaveText(/^[\d,]+(\.\d+)? m³$/);
  await checkA11y(page, '/cuenta/consumo?vista=tabla');
  // The server renders the table too (no JavaScript).
  const html = await (await page.request.get('/cuenta/consumo?vista=tabla')).text();
  expect(html).toContain('<caption>Consumo por periodo, en metros cúbicos</caption>');

  // Staff see the reading on the meter's page exactly once.
  const staff = await browser.newContext({ baseURL });
  try {
    const sp = await staff.newPage();
    await staffSignIn(sp, 'campo@cea-qro.example');
    await open(sp, meterHref);
    const readings = sp.getByRole('table', { name: 'Lecturas' });
    await expect(readings).toBeVisible();
    const rows = readings.locator('tbody tr').filter({ has: sp.locator('td:nth-child(2)', { hasText: new RegExp(`^${m3Text(reading).replace('.', '\\.')}$`) }) });
    await expect(rows).toHaveCount(1);
    await expect(rows.first().locator('td').nth(2)).toHaveText('Lectura del usuario');
  } finally {
    await staff.close();
  }
});
