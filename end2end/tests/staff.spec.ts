import { expect, test } from '@playwright/test';
import { resultCount, staffSearch, staffSignIn } from './helpers';

// Staff pages are desktop-first: the project's Desktop Chrome viewport.

test('staff search is accent- and case-insensitive and opens an account', async ({ page }) => {
  await staffSignIn(page, 'atencion@cea-qro.example');

  await staffSearch(page, 'nuñez');
  const rows = page.locator('table.results tbody tr');
  await expect(rows.first()).toBeVisible();
  const count = await rows.count();
  expect(count).toBeGreaterThan(0);
  expect(await resultCount(page)).toBe(count);
  // Column 2 is "Titular"; the seed always has a NÚÑEZ titular.
  await expect(rows.filter({ has: page.locator('td:nth-child(2)', { hasText: 'NÚÑEZ' }) }).first()).toBeVisible();

  // Same answer without the tilde and in capitals.
  await staffSearch(page, 'NUNEZ');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBe(count);
  expect(await resultCount(page)).toBe(count);

  // Open the first result that has a meter (column 4 is "—" without one), so it has readings.
  const withMeter = rows.filter({ hasNot: page.locator('td:nth-child(4)', { hasText: /^—$/ }) });
  const target = (await withMeter.count()) > 0 ? withMeter.first() : rows.first();
  const link = target.locator('td:first-child a');
  const number = (await link.innerText()).trim();
  expect(number).toMatch(/^\d+$/);
  await expect(link).toHaveAttribute('href', /^\/personal\/cuentas\/\d+$/);
  await link.click();
  await page.waitForURL(/\/personal\/cuentas\/\d+$/);

  const h1 = page.getByRole('heading', { level: 1 });
  await expect(h1).toHaveText(/^Contrato /);
  await expect(h1).toHaveText(`Contrato ${number}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Titular', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Medidor', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Bitácora', exact: true })).toBeVisible();
  expect(await page.locator('table.readings tbody tr').count()).toBeGreaterThan(0);
});
