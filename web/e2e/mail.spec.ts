import { expect, test } from '@playwright/test';
import { env, unique } from './env';
import { deliverTo, fillCompose, login, loginAs, openMessage, reader, row, screenshot } from './helpers';

test('a message delivered over SMTP appears live, and reads', async ({ page }, testInfo) => {
  await login(page, env.alice);
  const subject = unique('Live ');
  // Delivered after the page is loaded: only the push channel can show it.
  await deliverTo(env.alice.user, subject, `Hello from SMTP.\nSee https://example.test/x for details.`);
  await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });
  await screenshot(page, testInfo, 'live-arrival');
  await openMessage(page, subject);
  // The list row previews the same words: read them in the conversation.
  await expect(reader(page).getByText('Hello from SMTP.')).toBeVisible();
  await expect(reader(page).getByRole('link', { name: 'https://example.test/x' })).toHaveAttribute('rel', /noopener/);
  await screenshot(page, testInfo, 'reading');
});

test('an HTML message shows in a sandboxed frame with remote images blocked', async ({ page }) => {
  await login(page, env.alice);
  const subject = unique('Html ');
  await deliverTo(env.alice.user, subject, 'plain part', '<p>Rich <b>hello</b></p>');
  await openMessage(page, subject);
  const frame = page.locator('iframe[title^="Message"]');
  await expect(frame).toHaveAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
  await expect(frame).toHaveAttribute('src', /remote=0/);
  await expect(page.frameLocator('iframe[title^="Message"]').getByText('hello')).toBeVisible();
  await page.getByRole('button', { name: 'Show images' }).click();
  await expect(frame).toHaveAttribute('src', /remote=1/);
});

test('reply, and send to another local account who sees it arrive', async ({ page, browser }, testInfo) => {
  await login(page, env.alice);
  const subject = unique('Thread ');
  await deliverTo(env.alice.user, subject, 'Please answer.');
  await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });
  await openMessage(page, subject);

  await page.getByRole('button', { name: 'Reply', exact: true }).last().click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.locator('input[name="subject"]')).toHaveValue(`Re: ${subject}`);
  await expect(dialog.locator('input[name="to"]')).toHaveValue(/sender@e2e\.test/);
  // Redirect the reply to the second local account so its arrival can be seen.
  await fillCompose(page, { to: env.bob.user, body: 'Here is my answer. ' });
  await screenshot(page, testInfo, 'reply');
  await dialog.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sent' })).toBeVisible();

  const bob = await loginAs(browser, env.bob, testInfo);
  await expect(row(bob, `Re: ${subject}`)).toBeVisible({ timeout: 45_000 });
  await openMessage(bob, `Re: ${subject}`);
  await expect(reader(bob).getByText('Here is my answer.')).toBeVisible();
  await expect(reader(bob).getByText('> Please answer.')).toBeVisible();
  await screenshot(bob, testInfo, 'arrived');
  await bob.context().close();
});

test('keyboard: j/k move, o opens, u returns, ? shows help', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'phone', 'no keyboard on a phone');
  await login(page, env.alice);
  const a = unique('KeysA ');
  const b = unique('KeysB ');
  await deliverTo(env.alice.user, a, 'first');
  await deliverTo(env.alice.user, b, 'second');
  await expect(row(page, b)).toBeVisible({ timeout: 20_000 });
  // Keys go to the page, not to a field (a click could land on a row).
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('o');
  await expect(page.getByRole('heading', { level: 1, name: b })).toBeVisible();
  await page.keyboard.press('j');
  await expect(page.getByRole('heading', { level: 1, name: a })).toBeVisible();
  await page.keyboard.press('u');
  await expect(page.getByText('Select a conversation to read it.')).toBeVisible();
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
});
