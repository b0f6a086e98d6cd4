import { expect, test } from '@playwright/test';
import { PHONE, checkA11y, expectFieldError, open, requireEnv, signInCitizen, staffSignIn } from './helpers';

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
  // Applied from the queue within moments; reload until it shows.
  await expect
    .poll(
      async () => {
        await open(page, '/cuenta');
        return centavos(await page.locator('.balance .amount').innerText());
      },
      { message: 'the balance should drop by $10.50, once', timeout: 15_000 },
    )
    .toBe(before - 1050);
});

test.describe('staff (desktop)', () => {
  test.use({ viewport: { width: 1280, height: 900 }, hasTouch: false });

  test('a transfer to a CLABE that is not ours waits for staff, who assign it', async ({ page }) => {
    const id = Date.now() + 1;
    // An amount of its own, so a re-run against the same server finds this one.
    const pesos = 300 + (id % 97);
    const card = () => page.getByRole('region', { name: new RegExp(`SPEI · \\$${pesos}\\.25 `) });
    const res = await page.request.post('/webhooks/stp/abono', {
      data: {
        id,
        fechaOperacion: 20261124,
        institucionOrdenante: 40012,
        claveRastreo: `E2EX${id}`,
        monto: pesos + 0.25,
        nombreOrdenante: 'MARIA LOPEZ',
        cuentaOrdenante: '012180015555555557',
        cuentaBeneficiario: '646180111805034237',
        conceptoPago: 'AGUA',
        tsLiquidacion: Date.now(),
      },
    });
    expect(res.status()).toBe(200);

    await staffSignIn(page, 'cajero@cea-qro.example');
    await page.getByRole('navigation', { name: 'Personal' }).getByRole('link', { name: 'Pagos', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/personal/pagos');
    await expect(card()).toContainText('MARIA LOPEZ');
    await expect(card()).toContainText('646180111805034237');
    await checkA11y(page, 'unmatched payments');

    // Staff search finds it by the CLABE it was sent to.
    await page.getByLabel('Contrato, referencia, CLABE o clave del proveedor').fill('646180111805034237');
    await page.getByRole('button', { name: 'Buscar', exact: true }).click();
    const found = page.getByRole('region', { name: 'Buscar pagos' });
    await expect(found.getByRole('row').filter({ hasText: `$${pesos}.25` })).toContainText('Sin asignar');
    await checkA11y(page, 'payments search');

    // By id, so the helper can find the field's own wrapper.
    const contrato = page.locator(`#${await card().getByLabel('Número de contrato').getAttribute('id')}`);
    const nota = card().getByLabel('Cómo lo identificó');
    await contrato.fill('999999999');
    await nota.fill('Llamó la usuaria con su comprobante');
    await card().getByRole('button', { name: 'Asignar' }).click();
    await expectFieldError(page, contrato, /^No existe un contrato con ese número/);

    await contrato.fill(requireEnv('SUPRA_E2E_CONTRACT'));
    await card().getByRole('button', { name: 'Asignar' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Pago asignado' })).toBeVisible();
    await expect(card()).toHaveCount(0);
  });
});
