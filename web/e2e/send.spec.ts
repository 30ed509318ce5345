import { expect, test } from '@playwright/test';
import { env, unique } from './env';
import { fillCompose, goToFolder, login, loginAs, row, screenshot } from './helpers';

async function compose(page: import('@playwright/test').Page, subject: string, body: string) {
  await page.getByRole('button', { name: 'Compose' }).click();
  await fillCompose(page, { to: env.bob.user, subject, body });
}

test('schedule a message, see it in Scheduled, cancel it', async ({ page }, testInfo) => {
  await login(page, env.alice);
  const subject = unique('Later ');
  await compose(page, subject, 'This waits until tomorrow.');
  await page.getByRole('button', { name: 'Send later…' }).click();
  const menu = page.getByRole('dialog', { name: 'Send later' });
  await expect(menu.getByRole('button', { name: /Tomorrow morning/ })).toBeVisible();
  await screenshot(page, testInfo, 'send-later');
  const tomorrow = new Date(Date.now() + 86_400_000);
  const p = (n: number) => String(n).padStart(2, '0');
  await menu.getByLabel('Pick a date and time').fill(`${tomorrow.getFullYear()}-${p(tomorrow.getMonth() + 1)}-${p(tomorrow.getDate())}T09:30`);
  await menu.getByRole('button', { name: 'Schedule' }).click();
  await expect(page.getByRole('status').filter({ hasText: /Scheduled for/ })).toBeVisible();

  await goToFolder(page, 'Scheduled', testInfo);
  const item = page.getByRole('listitem').filter({ hasText: subject });
  await expect(item).toBeVisible();
  await screenshot(page, testInfo, 'scheduled');
  await item.getByRole('button', { name: 'Cancel sending' }).click();
  await expect(item).toHaveCount(0);
  await goToFolder(page, /Drafts/, testInfo);
  await expect(row(page, subject)).toBeVisible();
});

test('undo a send: the message comes back as a draft and is not delivered', async ({ page, browser }, testInfo) => {
  await login(page, env.alice);
  const subject = unique('Oops ');
  await compose(page, subject, 'I did not mean to send this.');
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  const toast = page.getByRole('status').filter({ hasText: 'Sent' });
  await expect(toast).toBeVisible();
  await screenshot(page, testInfo, 'undo-toast');
  await toast.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByText('Sending undone')).toBeVisible();
  const dialog = page.getByRole('dialog');
  await expect(dialog.locator('input[name="subject"]')).toHaveValue(subject);
  await dialog.getByRole('button', { name: /Close/ }).click();
  await goToFolder(page, /Drafts/, testInfo);
  await expect(row(page, subject)).toBeVisible();

  // Well past the undo delay, the recipient still has nothing.
  await page.waitForTimeout(15_000);
  const bob = await loginAs(browser, env.bob, testInfo);
  const word = subject.split(' ')[1] ?? subject;
  await bob.getByLabel('Search mail').fill(word);
  // Wait for the search itself: an empty inbox shown meanwhile proves nothing.
  await expect(bob).toHaveURL(new RegExp(`/search/${word}`));
  await expect(bob.getByText('Nothing matches.')).toBeVisible();
  await bob.context().close();
});

test('rich text compose loads the editor on demand and sends HTML', async ({ page }) => {
  await login(page, env.alice);
  const scripts: string[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(r.url());
  });
  const subject = unique('Rich ');
  await page.getByRole('button', { name: 'Compose' }).click();
  expect(scripts.some((u) => /RichEditor/.test(u))).toBe(false);
  await page.getByRole('dialog').getByLabel('Rich text').check();
  await expect(page.getByRole('toolbar', { name: 'Formatting' })).toBeVisible();
  expect(scripts.some((u) => /RichEditor/.test(u))).toBe(true);
  await fillCompose(page, { to: env.bob.user, subject, body: 'bold words' });
  await page.getByRole('button', { name: 'Bold' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sent' })).toBeVisible();
});

test('the undo delay is the account’s setting on the server, for every browser', async ({ page, browser }, testInfo) => {
  await login(page, env.alice);
  const setDelay = async (p: import('@playwright/test').Page, label: string) => {
    await p.getByRole('button', { name: 'Settings' }).click();
    const dialog = p.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Undo send').selectOption({ label });
    await expect(dialog.getByLabel('Undo send')).toBeEnabled();
    await dialog.getByRole('button', { name: 'Close' }).click();
  };
  await setDelay(page, 'Off: send at once');
  try {
    // Another browser (no shared local storage) reads the same value.
    const other = await loginAs(browser, env.alice, testInfo);
    await other.getByRole('button', { name: 'Settings' }).click();
    await expect(other.getByRole('dialog', { name: 'Settings' }).getByLabel('Undo send')).toHaveValue('0');
    await other.context().close();

    const subject = unique('Direct ');
    await compose(page, subject, 'No waiting.');
    await page.getByRole('dialog').getByRole('button', { name: 'Send', exact: true }).click();
    const toast = page.getByRole('status').filter({ hasText: 'Sent' });
    await expect(toast).toBeVisible();
    await expect(toast.getByRole('button', { name: 'Undo' })).toHaveCount(0);
    const bob = await loginAs(browser, env.bob, testInfo);
    await expect(row(bob, subject)).toBeVisible({ timeout: 10_000 });
    await bob.context().close();
  } finally {
    await setDelay(page, '10 seconds');
  }
});

test('an away message is saved on the server', async ({ page, browser }, testInfo) => {
  await login(page, env.alice);
  const text = unique('Away until Monday ');
  const open = async (p: import('@playwright/test').Page) => {
    await p.getByRole('button', { name: 'Settings' }).click();
    const form = p.getByRole('form', { name: 'Away message' });
    await expect(form.getByLabel('Message')).toBeVisible();
    return form;
  };
  const form = await open(page);
  await form.getByLabel('Reply automatically').check();
  await form.getByLabel('Message').fill(text);
  await form.getByRole('button', { name: 'Save away message' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Away message on.' })).toBeVisible();
  await screenshot(page, testInfo, 'away-message');
  try {
    const other = await loginAs(browser, env.alice, testInfo);
    const again = await open(other);
    await expect(again.getByLabel('Reply automatically')).toBeChecked();
    await expect(again.getByLabel('Message')).toHaveValue(text);
    await other.context().close();
  } finally {
    await form.getByLabel('Reply automatically').uncheck();
    await form.getByRole('button', { name: 'Save away message' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Away message off.' })).toBeVisible();
  }
});
