import { expect, test } from '@playwright/test';
import { env, unique } from './env';
import { deliverTo, isPhone, login, screenshot, watchCsp } from './helpers';

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Email address').fill(env.alice.user);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText(/wrong|attempts/i);
});

test('logs in to the inbox with folders and unread counts, under the strict CSP', async ({ page }, testInfo) => {
  const csp = watchCsp(page);
  // At least one unread message, whatever other tests left in the inbox.
  await deliverTo(env.alice.user, unique('Unread '), 'count me');
  await login(page, env.alice);
  await expect(page.getByRole('banner')).toBeVisible();
  await expect(page.getByRole('main')).toBeVisible();
  // A phone opens on the inbox; its folders are one step back.
  if (isPhone(testInfo)) await page.getByRole('link', { name: 'Folders' }).click();
  const nav = page.getByRole('navigation', { name: 'Folders and labels' });
  await expect(nav.getByRole('link', { name: /^Inbox \d+ unread$/ })).toHaveCount(1);
  for (const name of ['Drafts', 'Sent', 'Archive', 'Junk', 'Trash', 'Scheduled']) {
    await expect(nav.getByRole('link', { name: new RegExp(`^${name}`) })).toHaveCount(1);
  }
  const res = await page.request.get('/');
  expect(res.headers()['content-security-policy']).toContain("script-src 'self'");
  await screenshot(page, testInfo, 'inbox');
  expect(csp).toEqual([]);
});

test('signing out returns to the login form', async ({ page }, testInfo) => {
  await login(page, env.alice);
  if (testInfo.project.name === 'phone') {
    // On a phone the sign-out button is hidden in the top bar to save room.
    await page.request.post('/logout', { headers: { 'X-Freehold': '1' } });
    await page.reload();
  } else {
    await page.getByRole('button', { name: 'Sign out' }).click();
  }
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});
