// The browser half of bench/web (run by run.sh): Debian's Chromium,
// driven by Playwright, against a running Freehold whose account has a
// large INBOX.
//
//  1. login → rows: from the login form's submit to the first list row
//     painted, timed inside the page (performance.now at the submit event;
//     a MutationObserver sees the first row, one animation frame later it
//     is on screen). The first run starts with an empty HTTP cache; then
//     the median of the others.
//  2. Lighthouse 12 on the inbox page with its default (mobile) settings:
//     simulated throttling, a Moto G Power-sized screen. Playwright logs
//     in, in a persistent browser profile; Lighthouse drives the same
//     Chromium over its remote debugging port, so the session cookie is
//     there (Lighthouse clears caches and service workers, not cookies).
//
// Environment: FREEHOLD_URL, FREEHOLD_USER, FREEHOLD_PASSWORD; optional
// CHROME_PATH (default /usr/bin/chromium), BENCH_RUNS (default 5),
// BENCH_OUT (a directory for the Lighthouse report and screenshots).
// Prints one "name: value" line per figure.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The packages live in web/node_modules (Playwright and Lighthouse are
// the webmail's dev dependencies).
const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const require = createRequire(join(webDir, 'package.json'));
const { chromium } = require('@playwright/test');
const { default: lighthouse } = await import(pathToFileURL(require.resolve('lighthouse')).href);

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const url = need('FREEHOLD_URL');
const user = need('FREEHOLD_USER');
const password = need('FREEHOLD_PASSWORD');
const chromePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const runs = Number(process.env.BENCH_RUNS ?? 5);
const out = process.env.BENCH_OUT ?? '';
if (out) mkdirSync(out, { recursive: true });

/** A free loopback port for Chromium's remote debugging. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** One login, timed in the page; returns milliseconds. */
async function loginToRows(page) {
  await page.goto(url + '/');
  await page.getByLabel('Email address').fill(user);
  await page.getByLabel('Password').fill(password);
  const timing = page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const form = document.querySelector('form');
        if (!form) return reject(new Error('no login form'));
        let t0 = 0;
        form.addEventListener('submit', () => (t0 = performance.now()), { capture: true, once: true });
        const row = () => document.querySelector('[aria-label="Conversations"] [role="listitem"] a');
        const obs = new MutationObserver(() => {
          if (!t0 || !row()) return;
          obs.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        });
        obs.observe(document.body, { childList: true, subtree: true });
        setTimeout(() => reject(new Error('no rows after 30 s')), 30_000);
      }),
  );
  await page.getByRole('button', { name: 'Sign in' }).click();
  return timing;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const profile = mkdtempSync(join(tmpdir(), 'freehold-bench-'));
const port = await freePort();
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromePath,
  headless: true,
  viewport: { width: 1280, height: 800 },
  serviceWorkers: 'block',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--remote-debugging-port=${port}`],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const times = [];
  for (let i = 0; i < runs; i++) {
    await context.clearCookies();
    times.push(await loginToRows(page));
  }
  if (out) await page.screenshot({ path: join(out, 'inbox-desktop.png') });
  console.log(`login to rows first: ${times[0].toFixed(0)} ms`);
  console.log(`login to rows median: ${median(times.slice(1).length ? times.slice(1) : times).toFixed(0)} ms (${runs} runs)`);

  // Lighthouse opens its own tab in this (logged-in) profile.
  await page.goto('about:blank');
  const result = await lighthouse(url + '/', {
    port,
    output: ['html', 'json'],
    logLevel: 'error',
    onlyCategories: ['performance', 'accessibility'],
  });
  if (!result) throw new Error('Lighthouse returned nothing');
  const lhr = result.lhr;
  if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.message}`);
  /** The first node (an object with a selector) in an audit's details. */
  const firstNode = (d) => {
    if (!d || typeof d !== 'object') return null;
    if (typeof d.selector === 'string') return d;
    for (const v of Object.values(d)) {
      const n = firstNode(v);
      if (n) return n;
    }
    return null;
  };
  const lcp = firstNode(lhr.audits['largest-contentful-paint-element']?.details);
  const lcpNode = lcp ? `${lcp.selector} "${String(lcp.nodeLabel ?? '').slice(0, 40)}"` : '?';
  // The page audited must be the inbox, not the login form: it called the JMAP API.
  const requests = lhr.audits['network-requests']?.details?.items ?? [];
  if (!requests.some((r) => /\/jmap\/api/.test(r.url) && r.statusCode === 200)) {
    throw new Error('Lighthouse did not see the inbox load (no JMAP API call): was the session lost?');
  }
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'notApplicable')
    .map((a) => `${a.id} (${a.displayValue ?? a.score})`);
  const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
  console.log(`lighthouse performance: ${score('performance')}`);
  console.log(`lighthouse accessibility: ${score('accessibility')}`);
  for (const id of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index']) {
    console.log(`lighthouse ${id}: ${lhr.audits[id]?.displayValue ?? '?'}`);
  }
  console.log(`lighthouse lcp element: ${lcpNode}`);
  if (failing.length) console.log(`lighthouse below 0.9: ${failing.join(', ')}`);
  if (out) {
    const [html, json] = Array.isArray(result.report) ? result.report : [result.report, ''];
    writeFileSync(join(out, 'lighthouse.html'), String(html));
    writeFileSync(join(out, 'lighthouse.json'), String(json));
    const shot = lhr.audits['final-screenshot']?.details?.data;
    if (typeof shot === 'string') writeFileSync(join(out, 'lighthouse-final.jpg'), Buffer.from(shot.split(',')[1] ?? '', 'base64'));
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
