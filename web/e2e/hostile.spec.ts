// Hostile HTML: each message in e2e/hostile/ tries to run script, reach a
// canary server, or load remote content. Opened in the webmail, none of it
// may work: no request leaves for any origin but the app's, the canary is
// never hit, and the page title stays ours.

import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { env, unique } from './env';
import { login, openMessage, row, screenshot } from './helpers';
import { deliver } from './smtp';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'hostile');
const corpus = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();

let canary: Server;
let canaryUrl = '';
const canaryHits: string[] = [];

test.beforeAll(async () => {
  canary = createServer((req, res) => {
    canaryHits.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': '*' });
    res.end('canary');
  });
  await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
  const addr = canary.address();
  if (!addr || typeof addr === 'string') throw new Error('canary did not start');
  canaryUrl = `http://127.0.0.1:${addr.port}`;
});

test.afterAll(async () => {
  await new Promise<void>((r) => canary.close(() => r()));
});

for (const file of corpus) {
  test(`hostile message ${file} runs nothing and loads nothing remote`, async ({ page }, testInfo) => {
    const appOrigin = new URL(env.url).origin;
    const foreign: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return;
      if (u.origin !== appOrigin) foreign.push(r.url());
    });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    await login(page, env.alice);
    const subject = unique(`Hostile ${file.replace('.eml', '')} `);
    const data = readFileSync(join(dir, file), 'utf8')
      .replaceAll('{{CANARY}}', canaryUrl)
      .replaceAll('{{TO}}', env.alice.user)
      .replaceAll('{{SUBJECT}}', subject)
      .replaceAll('{{MSGID}}', `${unique('h')}@e2e.test`);
    await deliver({ ...env.smtp, from: 'mallory@e2e.test', to: [env.alice.user], data });
    await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });
    const hitsBefore = canaryHits.length;
    await openMessage(page, subject);

    const frame = page.frameLocator('iframe[title^="Message"]');
    await expect(frame.locator('body')).toBeVisible();
    // Interact the way a victim would: hover, click every link and button.
    const body = frame.locator('body');
    await body.hover();
    for (const target of await frame.locator('a, button, summary, input').all()) {
      await target.click({ timeout: 2000, force: true }).catch(() => undefined);
    }
    await page.waitForTimeout(1500);
    await screenshot(page, testInfo, `hostile-${file.replace('.eml', '')}`);

    expect(await page.title()).toBe('Mail');
    expect(canaryHits.slice(hitsBefore)).toEqual([]);
    expect(foreign).toEqual([]);
    expect(dialogs).toEqual([]);
    // The frame itself must stay sandboxed without scripts.
    await expect(page.locator('iframe[title^="Message"]')).toHaveAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
  });
}

test('the HTML view is served with its own strict CSP', async ({ page }) => {
  await login(page, env.alice);
  const subject = unique('CspCheck ');
  await deliver({
    ...env.smtp,
    from: 'mallory@e2e.test',
    to: [env.alice.user],
    data: readFileSync(join(dir, 'script-tags.eml'), 'utf8')
      .replaceAll('{{CANARY}}', canaryUrl)
      .replaceAll('{{TO}}', env.alice.user)
      .replaceAll('{{SUBJECT}}', subject)
      .replaceAll('{{MSGID}}', `${unique('h')}@e2e.test`),
  });
  await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });
  await openMessage(page, subject);
  const src = await page.locator('iframe[title^="Message"]').getAttribute('src');
  expect(src).toBeTruthy();
  const res = await page.request.get(src ?? '');
  expect(res.ok()).toBe(true);
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'none'|default-src 'none'/);
  expect(await res.text()).not.toContain('<script');
});
