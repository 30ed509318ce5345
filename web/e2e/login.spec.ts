import { expect, test } from '@playwright/test';
import { env } from './env';
import { login, screenshot, watchCsp } from './helpers';

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Email address').fill(env.alice.user);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText(/wrong|attempts/i);
});

test('logs in to the inbox with folders and unread counts, under the strict CSP', async ({ page }, testInfo) => {
  const csp = watchCsp(page);
  await login(page, env.alice);
  const nav = page.getByRole('navigation', { name: 'Folders and labels' });
  await expect(nav.getByRole('link', { name: /Inbox/ })).toHaveCount(1);
  await expect(page.getByRole('banner')).toBeVisible();
  await expect(page.getByRole('main')).toBeVisible();
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
