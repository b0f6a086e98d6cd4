import { expect, test } from '@playwright/test';
import { checkA11y, open, staffSignIn } from './helpers';

// The bridge to AquaCIS (the utility's legacy system), as the administrator sees it:
// the services behind their circuit breakers (in development, the AquaCIS simulator
// the server starts), the queue towards AquaCIS, the nightly sync and the
// source-of-truth switches — changed and put back, each change confirmed. Scanned with
// axe.
test.describe('AquaCIS bridge (admin, desktop)', () => {
  test('health, a manual sync and a source-of-truth switch', async ({ page }) => {
    test.setTimeout(180_000);
    await staffSignIn(page, 'admin@cea-qro.example');
    await page.getByRole('link', { name: 'AquaCIS' }).click();
    await page.waitForURL('**/personal/legado');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sistema anterior (AquaCIS)');
    const services = page.locator('section[aria-labelledby="h-servicios"] tbody tr');
    await expect(services).toHaveCount(5);
    await expect(services.first().locator('.breaker')).toHaveText('cerrado');
    await expect(page.locator('.outbox-depth')).toContainText('Pendientes:');
    await checkA11y(page, '/personal/legado');

    // A sync by hand runs on its own; the page shows it finished with its report.
    await page.getByRole('button', { name: 'Sincronizar ahora' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Sincronización iniciada' })).toBeVisible();
    await expect(async () => {
      await open(page, '/personal/legado');
      await expect(page.locator('.sync-status')).toContainText('Terminada', { timeout: 1_000 });
    }).toPass({ timeout: 150_000, intervals: [2_000] });
    await expect(page.getByText(/Contratos revisados: \d+/)).toBeVisible();
    await expect(page.getByText(/Saldos iguales: \d+/)).toBeVisible();
    await checkA11y(page, '/personal/legado (after a sync)');

    // Debt read from AquaCIS, then back to SUPRA: each change confirmed and kept.
    await page.getByLabel('Consultar adeudos en', { exact: true }).selectOption('legado');
    await page.getByRole('button', { name: 'Guardar adeudos' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Adeudos: se guardó el cambio.' })).toBeVisible();
    await open(page, '/personal/legado');
    await expect(page.locator('#lecturas-deuda')).toHaveValue('legado');
    await page.locator('#lecturas-deuda').selectOption('supra');
    await page.getByRole('button', { name: 'Guardar adeudos' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Adeudos: se guardó el cambio.' })).toBeVisible();
    await open(page, '/personal/legado');
    await expect(page.locator('#lecturas-deuda')).toHaveValue('supra');
  });
});
