import { expect, test, type Locator, type Page, type Response } from '@playwright/test';
import { PHONE, expectFieldError, open, staffSignIn } from './helpers';

// Bad input gets a plain-Spanish message next to the field, wired to it for screen
// readers, and never a server error.

/** Record every response of the page; fail the test on any status >= 500. */
function watchServerErrors(page: Page): () => void {
  const bad: string[] = [];
  page.on('response', (r: Response) => {
    if (r.status() >= 500) bad.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return () => expect(bad, `responses with status >= 500:\n${bad.join('\n')}`).toEqual([]);
}

/** Submit and return the server function's HTTP response. */
async function submitTo(page: Page, button: Locator, endpoint: RegExp): Promise<Response> {
  const [res] = await Promise.all([
    page.waitForResponse((r) => endpoint.test(new URL(r.url()).pathname) && r.request().method() === 'POST'),
    button.click(),
  ]);
  return res;
}

test.describe('citizen sign-in form (phone)', () => {
  test.use(PHONE);

  test('a contract number with letters', async ({ page }) => {
    const check = watchServerErrors(page);
    await open(page, '/entrar');
    const field = page.getByLabel('Número de contrato');
    await expect(field).toHaveAttribute('aria-invalid', 'false');
    await field.fill('abc');
    const res = await submitTo(page, page.getByRole('button', { name: 'Enviarme un código' }), /^\/api\/citizen\/request_code$/);
    expect(res.status(), 'bad input is a 4xx').toBeGreaterThanOrEqual(400);
    expect(res.status(), 'bad input is a 4xx').toBeLessThan(500);
    await expectFieldError(page, field, 'solo lleva números');
    await expect(page).toHaveURL(/\/entrar$/);
    // Still on step 1.
    await expect(page.getByLabel('Código de 6 números')).toHaveCount(0);

    // The hint stays described too.
    expect(await field.getAttribute('aria-describedby')).toContain('contrato-ayuda');
    check();
  });

  test('an unknown contract number', async ({ page }) => {
    const check = watchServerErrors(page);
    await open(page, '/entrar');
    const field = page.getByLabel('Número de contrato');
    await field.fill('999999999');
    const res = await submitTo(page, page.getByRole('button', { name: 'Enviarme un código' }), /^\/api\/citizen\/request_code$/);
    expect(res.status()).toBeGreaterThanOrEqual(400);
    expect(res.status()).toBeLessThan(500);
    await expectFieldError(page, field, 'No encontramos');
    await expect(page.getByLabel('Código de 6 números')).toHaveCount(0);

    // An empty field (novalidate form: the server answers); the new message replaces the old.
    await field.fill('');
    await submitTo(page, page.getByRole('button', { name: 'Enviarme un código' }), /^\/api\/citizen\/request_code$/);
    await expectFieldError(page, field, 'Escribe tu número de contrato.');
    await expect(page.locator('#contrato-error')).not.toContainText('No encontramos');
    check();
  });
});

test.describe('staff forms (desktop)', () => {
  test('a wrong staff password', async ({ page }) => {
    const check = watchServerErrors(page);
    await open(page, '/personal/entrar');
    const correo = page.getByLabel('Correo', { exact: true });
    const contrasena = page.getByLabel('Contraseña', { exact: true });
    await correo.fill('atencion@cea-qro.example');
    await contrasena.fill('no-es-la-contrasena');
    const res = await submitTo(page, page.getByRole('button', { name: 'Entrar', exact: true }), /^\/api\/staff\/login$/);
    expect(res.status()).toBeGreaterThanOrEqual(400);
    expect(res.status()).toBeLessThan(500);
    await expectFieldError(page, contrasena, 'Correo o contraseña incorrectos.');
    await expect(page).toHaveURL(/\/personal\/entrar$/);
    check();
  });

  test('a staff search that is too short', async ({ page }) => {
    const check = watchServerErrors(page);
    await staffSignIn(page, 'atencion@cea-qro.example');
    await page.getByLabel('Contrato, nombre, medidor, calle o teléfono').fill('a');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Escribe al menos 2 letras o números.' })).toBeVisible();
    await expect(page.locator('table.results')).toHaveCount(0);
    check();
  });
});
