import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Browser, type Locator, type Page, type Response } from '@playwright/test';

/** Demo staff password (`supra seed` default). */
export const STAFF_PASSWORD = process.env.SUPRA_E2E_STAFF_PASSWORD ?? 'agua-demo-2026';

/** Android phone viewport for the citizen pages. */
export const PHONE = { viewport: { width: 412, height: 915 }, hasTouch: true } as const;

/** A required environment variable, or a clear error naming it. */
export function requireEnv(name: string): string {
  const v = process.env[name]?.trim();
  if (!v) {
    throw new Error(
      `${name} is not set. The e2e suite needs SUPRA_E2E_CONTRACT (a normal domestic demo ` +
        `contract with a phone) and SUPRA_E2E_CONTRACT2 (another demo login, used by the ` +
        `lock-out test), e.g. taken from the demo logins that \`supra seed\` prints.`,
    );
  }
  return v;
}

export const citizenContract = (): string => requireEnv('SUPRA_E2E_CONTRACT');
export const lockoutContract = (): string => requireEnv('SUPRA_E2E_CONTRACT2');

/**
 * Wait until the page has loaded its wasm and hydrated. `hydrate()` registers the
 * service worker right after hydrating, so on a fresh context a registration is a
 * reliable "hydrated" signal; `networkidle` covers later pages of the same context.
 */
export async function waitForApp(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const wasm = performance
            .getEntriesByType('resource')
            .some((e) => new URL(e.name).pathname.endsWith('.wasm') && new URL(e.name).pathname.startsWith('/pkg/'));
          const reg = await navigator.serviceWorker.getRegistration();
          return wasm && !!reg;
        }),
      { message: 'the page should load its wasm and register the service worker (hydration)' },
    )
    .toBe(true);
}

/** `goto` + wait for hydration. */
export async function open(page: Page, path: string): Promise<Response | null> {
  const res = await page.goto(path);
  await waitForApp(page);
  return res;
}

type OutboxRow = { contract: string; code: string };

/** All one-time codes in the development outbox, newest first. */
export async function outbox(request: APIRequestContext): Promise<OutboxRow[]> {
  const res = await request.get('/dev/outbox', { headers: { 'cache-control': 'no-cache' } });
  expect(res.status(), 'GET /dev/outbox (the server must run in development mode)').toBe(200);
  const html = await res.text();
  const rows: OutboxRow[] = [];
  const re = /<tr data-contract="([^"]*)">([\s\S]*?)<\/tr>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const code = /<code class="otp">(\d{6})<\/code>/.exec(m[2]);
    if (code) rows.push({ contract: m[1], code: code[1] });
  }
  return rows;
}

/** Codes sent for `contract`, newest first. */
export async function codesFor(request: APIRequestContext, contract: string): Promise<string[]> {
  return (await outbox(request)).filter((r) => r.contract === contract).map((r) => r.code);
}

/** The newest one-time code sent for `contract` (fails if there is none). */
export async function codeFor(request: APIRequestContext, contract: string): Promise<string> {
  const codes = await codesFor(request, contract);
  expect(codes.length, `no one-time code for contract ${contract} in /dev/outbox`).toBeGreaterThan(0);
  return codes[0];
}

/** A 6-digit code guaranteed to differ from `code`. */
export function wrongCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/**
 * On /entrar (already open and hydrated): ask for a code for `contract` and return
 * it, read from the development outbox. Waits for the second step to show.
 */
export async function requestCode(page: Page, contract: string): Promise<string> {
  const before = await codesFor(page.request, contract);
  await page.getByLabel('Número de contrato').fill(contract);
  const [res] = await Promise.all([
    page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/citizen/request_code' && r.request().method() === 'POST',
    ),
    page.getByRole('button', { name: 'Enviarme un código' }).click(),
  ]);
  if (!res.ok()) {
    // E.g. 429 "Ya te enviamos 3 códigos…": the policy allows 3 codes per contract
    // per 15 minutes, so re-running the suite needs a freshly seeded server.
    const body = await res.text().catch(() => '');
    throw new Error(`requesting a code for ${contract} failed: HTTP ${res.status()} ${body}`);
  }
  const codeField = page.getByLabel('Código de 6 números');
  await expect(codeField).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Te enviamos un código de 6 números' })).toHaveText(
    /^Te enviamos un código de 6 números al .+\. Vence en \d+ minutos\.$/,
  );
  let code = '';
  await expect
    .poll(
      async () => {
        const now = await codesFor(page.request, contract);
        // A new row for this contract (newest first).
        if (now.length > before.length || (now.length > 0 && now[0] !== before[0])) code = now[0];
        return code;
      },
      { message: `a new code for ${contract} should appear in /dev/outbox` },
    )
    .toMatch(/^\d{6}$/);
  return code;
}

/** Full citizen sign-in through the UI; ends on /cuenta with the dashboard shown. */
export async function signInCitizen(page: Page, contract: string): Promise<void> {
  await open(page, '/entrar');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Entrar a mi cuenta');
  const code = await requestCode(page, contract);
  await page.getByLabel('Código de 6 números').fill(code);
  await page.getByRole('button', { name: 'Entrar', exact: true }).click();
  await page.waitForURL('**/cuenta');
  await expect(page.getByRole('heading', { level: 1, name: 'Mi cuenta' })).toBeVisible();
  await expect(page.locator('.contract-number')).toHaveText(contract);
}

/** Staff sign-in through the UI; ends on /personal. */
export async function staffSignIn(page: Page, email: string, password: string = STAFF_PASSWORD): Promise<void> {
  await open(page, '/personal/entrar');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Acceso del personal');
  await page.getByLabel('Correo').fill(email);
  await page.getByLabel('Contraseña').fill(password);
  await page.getByRole('button', { name: 'Entrar', exact: true }).click();
  await page.waitForURL(/\/personal(\?.*)?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Buscar cuentas');
  await page.waitForLoadState('networkidle');
}

/** On /personal: search for `q` and wait for the answer (results or "no results"). */
export async function staffSearch(page: Page, q: string): Promise<void> {
  const box = page.getByLabel('Contrato, nombre, medidor, calle o teléfono');
  await box.fill(q);
  await page.getByRole('button', { name: 'Buscar' }).click();
  await page.waitForURL((u) => u.pathname === '/personal' && u.searchParams.get('q') === q);
  await expect(page.getByRole('status').filter({ hasText: `«${q}»` })).toBeVisible();
}

/** The number of results in the status line ("3 resultados para «…»"), 0 if none. */
export async function resultCount(page: Page): Promise<number> {
  const text = await page.getByRole('status').filter({ hasText: '«' }).first().innerText();
  const m = /^(\d+) resultados? para/.exec(text.trim());
  return m ? Number(m[1]) : 0;
}

/**
 * The field is marked invalid and its aria-describedby names an element that shows
 * `message` (and sits next to the field, in the same .field wrapper).
 */
export async function expectFieldError(page: Page, field: Locator, message: string | RegExp): Promise<void> {
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  const id = await field.getAttribute('id');
  const errorEl = page.locator(`#${id}-error`);
  await expect(errorEl).toBeVisible();
  await expect(errorEl).toContainText(message);

  const describedBy = ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  expect(describedBy, `aria-describedby of #${id}`).toContain(`${id}-error`);
  const texts = await Promise.all(describedBy.map((ref) => page.locator(`[id="${ref}"]`).innerText()));
  expect(
    texts.some((t) => (typeof message === 'string' ? t.includes(message) : message.test(t))),
    `one of the elements named by aria-describedby (${describedBy.join(', ')}) should read ${message}; they read: ${JSON.stringify(texts)}`,
  ).toBe(true);

  // Next to the field: in the same .field wrapper.
  const wrapper = page.locator('.field', { has: field });
  await expect(wrapper.locator(`#${id}-error`)).toHaveCount(1);
  await expect(wrapper).toHaveClass(/(^|\s)invalid(\s|$)/);
}

/** The offline banner: "Sin conexión · actualizado el 24 nov 2026, 10:15". */
export const OFFLINE_BANNER = /^Sin conexión · actualizado el \d{1,2} [a-z]{3} \d{4}, \d{2}:\d{2}$/;

/**
 * A citizen contract for the bills spec that no other spec signs in with (3 codes per
 * contract per 15 minutes): SUPRA_E2E_CONTRACT3 when set (the test script exports the
 * third demo login), else an active domestic contract with a meter, a phone and bills,
 * found through the staff search.
 */
export async function billsContract(browser: Browser, baseURL: string | undefined): Promise<string> {
  const fromEnv = process.env.SUPRA_E2E_CONTRACT3?.trim();
  if (fromEnv) return fromEnv;
  const taken = new Set([process.env.SUPRA_E2E_CONTRACT?.trim(), process.env.SUPRA_E2E_CONTRACT2?.trim()]);
  const ctx = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    await page.goto('/personal/entrar');
    await page.getByLabel('Correo').fill('atencion@cea-qro.example');
    await page.getByLabel('Contraseña').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Entrar', exact: true }).click();
    await page.waitForURL(/\/personal(\?.*)?$/);
    for (const q of ['nuñez', 'garcia', 'hernandez', 'martinez']) {
      await page.goto(`/personal?q=${encodeURIComponent(q)}`);
      const rows = page.locator('table.results tbody tr');
      const n = await rows.count();
      const candidates: { number: string; href: string }[] = [];
      for (let i = 0; i < n; i++) {
        const cells = await rows.nth(i).locator('td').allInnerTexts();
        // Contrato, Titular, Dirección, Medidor, Uso, Estado
        if (cells[3]?.trim() === '—' || cells[4]?.trim() !== 'Doméstico' || cells[5]?.trim() !== 'Activo') continue;
        const link = rows.nth(i).locator('td:first-child a');
        candidates.push({ number: (await link.innerText()).trim(), href: (await link.getAttribute('href')) ?? '' });
      }
      for (const c of candidates.slice(0, 15)) {
        if (taken.has(c.number)) continue;
        await page.goto(c.href);
        const phone = (await page.locator('dt:text-is("Teléfono") + dd').innerText()).trim();
        const bills = await page.locator('table.invoices tbody tr').count();
        if (phone !== '—' && bills >= 2) return c.number;
      }
    }
    throw new Error('no active domestic contract with a phone and bills found; set SUPRA_E2E_CONTRACT3');
  } finally {
    await ctx.close();
  }
}

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

function describeViolations(violations: AxeResults['violations']): string {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const why = (n.failureSummary ?? '').replace(/\s*\n\s*/g, ' ');
          return `    - ${n.target.map(String).join(' >>> ')}${why ? `\n      ${why}` : ''}`;
        })
        .join('\n');
      return `  * ${v.id} [${v.impact ?? 'n/a'}]: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/**
 * Run axe (WCAG 2.0/2.1 A and AA) on the current page state. Soft assertion: every
 * page of a test is checked and all violations are reported together.
 */
export async function checkA11y(page: Page, label: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const v = results.violations;
  expect
    .soft(v.length, `axe found ${v.length} violation(s) on ${label} (${page.url()}):\n${describeViolations(v)}`)
    .toBe(0);
}
