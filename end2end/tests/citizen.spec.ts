import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { PHONE, citizenContract, signInCitizen } from './helpers';

// Citizen pages are phone-first: an Android phone viewport.
test.use(PHONE);

const OFFLINE_BANNER = /^Sin conexión · actualizado el \d{1,2} [a-z]{3} \d{4}, \d{2}:\d{2}$/;

/** The dashboard as signed in: contract, address, meter and 12 months of consumption. */
async function expectDashboard(page: Page, contract: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mi cuenta');
  await expect(page.locator('.contract-number')).toHaveText(contract);
  await expect(page.getByRole('heading', { level: 2, name: `Contrato ${contract}` })).toBeVisible();
  await expect(page.locator('dd.service-address')).toHaveText(/\S/);
  await expect(page.getByRole('heading', { level: 2, name: 'Saldo' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2, name: 'Medidor' })).toBeVisible();
  await expect(page.locator('dd.meter-serial')).toHaveText(/\S/);
  await expect(page.getByRole('heading', { level: 2, name: 'Últimas lecturas' })).toBeVisible();
  await expect(page.locator('table.consumption tbody tr')).toHaveCount(12);
  await expect(page.getByRole('button', { name: 'Salir' })).toBeVisible();
}

/** Sign in, wait for the service worker to control the page and for /cuenta to be cached. */
async function signInAndGetControlled(page: Page, contract: string): Promise<void> {
  await signInCitizen(page, contract);
  await expectDashboard(page, contract);

  // The SW calls clients.claim() on activate, so the page becomes controlled.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const scriptURL = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? '');
  expect(new URL(scriptURL).pathname).toBe('/sw.js');

  // Sign-in navigates to /cuenta client-side; reload once online so the navigation
  // goes through the worker (network-first) and /cuenta lands in Cache Storage, and
  // the hydrated page saves the dashboard to IndexedDB.
  await page.reload();
  await page.waitForLoadState('networkidle');
  await expectDashboard(page, contract);
  await expect
    .poll(() => page.evaluate(async () => !!(await caches.match('/cuenta'))), {
      message: 'the service worker should have cached /cuenta',
    })
    .toBe(true);
  await expect(page.locator('.offline-banner')).toHaveCount(0);
}

async function expectOfflineDashboard(page: Page, contract: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mi cuenta');
  await expect(page.locator('.contract-number')).toHaveText(contract);
  const banner = page.locator('.offline-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveText(OFFLINE_BANNER);
  await expect(banner).toHaveAttribute('role', 'status');
}

async function goOffline(context: BrowserContext): Promise<void> {
  // Must come BEFORE any CDP ServiceWorker.stopAllWorkers (toolchain.md §9 pitfall 4).
  await context.setOffline(true);
}

test.describe('citizen dashboard', () => {
  test('sign in with a code, see the dashboard, and read it offline from the service worker', async ({
    page,
    context,
  }) => {
    const contract = citizenContract();
    await signInAndGetControlled(page, contract);

    await goOffline(context);
    const res = await page.reload();
    expect(res, 'the offline reload should produce a response').not.toBeNull();
    expect(res!.fromServiceWorker(), 'the offline reload should be answered by the service worker').toBe(true);
    await expectOfflineDashboard(page, contract);
  });

  test('offline, a stopped service worker restarts from its cache and still serves the dashboard', async ({
    page,
    context,
  }) => {
    const contract = citizenContract();
    await signInAndGetControlled(page, contract);

    await goOffline(context);
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');

    const res = await page.reload();
    expect(res, 'the offline reload should produce a response').not.toBeNull();
    expect(res!.fromServiceWorker(), 'the restarted service worker should answer the reload').toBe(true);
    await expectOfflineDashboard(page, contract);
    await cdp.detach();
  });
});
