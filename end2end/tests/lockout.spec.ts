import { expect, test } from '@playwright/test';
import { PHONE, lockoutContract, open, requestCode, wrongCode } from './helpers';

test.use(PHONE);

// Locks SUPRA_E2E_CONTRACT2 for 15 minutes; SUPRA_E2E_CONTRACT stays usable for the
// other specs. Re-running this spec needs a fresh server (or another contract).
test('three wrong codes lock the contract for 15 minutes', async ({ page }) => {
  const contract = lockoutContract();
  await open(page, '/entrar');
  const realCode = await requestCode(page, contract);
  const bad = wrongCode(realCode); // never the real code

  const field = page.getByLabel('Código de 6 números');
  const submit = page.getByRole('button', { name: 'Entrar', exact: true });
  const fieldError = page.locator('#codigo-error');

  // Attempts 1 and 2: a message next to the field, tied to it for screen readers.
  for (const left of ['Te quedan 2 intentos', 'Te queda 1 intento']) {
    await field.fill(bad);
    await submit.click();
    await expect(fieldError).toContainText('El código no es correcto');
    await expect(fieldError).toContainText(left);
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveAttribute('aria-describedby', /(^|\s)codigo-error(\s|$)/);
    await expect(page).toHaveURL(/\/entrar$/);
  }

  // Attempt 3: the cool-down alert.
  await field.fill(bad);
  await submit.click();
  const alert = page.getByRole('alert').filter({ hasText: 'Escribiste mal el código 3 veces' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('15 minutos');
  await expect(page).toHaveURL(/\/entrar$/);

  // Even the right code is refused now.
  await field.fill(realCode);
  await submit.click();
  const locked = page.getByRole('alert').filter({ hasText: 'bloqueamos el acceso' });
  await expect(locked).toBeVisible();
  // The answer to this 4th try replaces the previous message.
  await expect(locked).not.toContainText('Escribiste mal');
  await expect(page).toHaveURL(/\/entrar$/);
});
