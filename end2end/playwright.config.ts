import { defineConfig, devices } from '@playwright/test';

// The server is started (and seeded with the deterministic demo utility) by the
// caller, e.g. `cargo leptos end-to-end --release` or the project's test script.
// There is deliberately no `webServer` block.
//
// Browser: Debian's chromium. Never run `npx playwright install` (no downloads).
export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    baseURL: process.env.SUPRA_E2E_URL ?? 'http://127.0.0.1:3000',
    serviceWorkers: 'allow',
    locale: 'es-MX',
    timezoneId: 'America/Mexico_City',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: process.env.SUPRA_E2E_CHROMIUM ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],
});
