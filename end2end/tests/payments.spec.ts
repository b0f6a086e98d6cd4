import { expect, test } from '@playwright/test';
import { PHONE, checkA11y, open, requireEnv, signInCitizen } from './helpers';

// Payments (issue #5), first channel: SPEI through STP. The citizen sees the CLABE that
// is only their contract's; when STP notifies a transfer to it (its webhook, exactly as
// STP posts it), the balance goes down — once, however often STP re-sends.
test.use(PHONE);

/** "$1,234.56" → 123456 centavos. */
function centavos(text: string): number {
  const m = /^\$([\d,]+)\.(\d{2})$/.exec(text.trim());
  expect(m, `a peso amount, got «${text}»`).not.toBeNull();
  return Number(m![1].replace(/,/g, '')) * 100 + Number(m![2]);
}

test('SPEI: the citizen sees their CLABE, and a transfer to it lowers the balance once', async ({ page }) => {
  // The fourth demo login (a commercial contract): no other spec signs in with it.
  await signInCitizen(page, requireEnv('SUPRA_E2E_CONTRACT4'));

  const spei = page.getByRole('region', { name: 'Paga por transferencia (SPEI)' });
  await expect(spei).toBeVisible();
  const clabe = (await spei.locator('.clabe code').innerText()).trim();
  expect(clabe).toMatch(/^646\d{15}$/);
  await checkA11y(page, 'dashboard with the SPEI CLABE');
  const before = centavos(await page.locator('.balance .amount').innerText());
  expect(before).toBeGreaterThan(1000);

  const abono = {
    id: Date.now(),
    fechaOperacion: 20261124,
    institucionOrdenante: 40012,
    institucionBeneficiaria: 90646,
    claveRastreo: `E2E${Date.now()}`,
    monto: 10.5,
    nombreOrdenante: 'PRUEBA E2E',
    tipoCuentaOrdenante: 40,
    cuentaOrdenante: '012180015555555557',
    rfcCurpOrdenante: 'ND',
    nombreBeneficiario: 'CEA',
    tipoCuentaBeneficiario: 40,
    cuentaBeneficiario: clabe,
    conceptoPago: 'PAGO AGUA',
    referenciaNumerica: 1,
    empresa: 'CEAQRO',
    tipoPago: 1,
    tsLiquidacion: Date.now(),
  };
  for (let i = 0; i < 2; i++) {
    const res = await page.request.post('/webhooks/stp/abono', { data: abono });
    expect(res.status()).toBe(200);
    expect(await res.json()).toEqual({ mensaje: 'confirmar' });
  }
  await open(page, '/cuenta');
  await expect
    .poll(async () => centavos(await page.locator('.balance .amount').innerText()), {
      message: 'the balance should drop by $10.50, once',
    })
    .toBe(before - 1050);
});
