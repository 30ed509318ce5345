import { defineConfig } from '@playwright/test';

// End-to-end tests against a running Freehold binary. The script that
// starts it sets:
//   FREEHOLD_URL        the web origin, e.g. http://127.0.0.1:8080
//   FREEHOLD_SMTP       host:port of the MX listener the tests deliver to
//   FREEHOLD_USER, FREEHOLD_PASSWORD    the first test account
//   FREEHOLD_USER2, FREEHOLD_PASSWORD2  a second local account
// Chromium is Debian's (Playwright cannot download browsers here).

const baseURL = process.env.FREEHOLD_URL ?? 'http://127.0.0.1:8080';

const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  // The accounts are shared: tests run one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    screenshot: 'on',
    trace: 'retain-on-failure',
    serviceWorkers: 'block',
    launchOptions,
  },
  projects: [
    {
      name: 'desktop',
      use: { browserName: 'chromium', viewport: { width: 1280, height: 800 } },
    },
    {
      name: 'phone',
      use: {
        browserName: 'chromium',
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 3,
        isMobile: true,
        hasTouch: true,
      },
    },
  ],
});
