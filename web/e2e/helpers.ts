import { expect, type Browser, type Page, type TestInfo } from '@playwright/test';
import { env, type Account } from './env';
import { deliver, textMessage } from './smtp';

export const isPhone = (testInfo: TestInfo): boolean => testInfo.project.name === 'phone';

/** Collects Content-Security-Policy violations reported on the console. */
export function watchCsp(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

export async function login(page: Page, who: Account): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email address').fill(who.user);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('list', { name: 'Conversations' })).toBeVisible();
}

/** A fresh browser context logged in as `who` (for the second account). */
export async function loginAs(browser: Browser, who: Account, testInfo: TestInfo): Promise<Page> {
  const project = testInfo.project.use;
  const ctx = await browser.newContext({
    baseURL: env.url,
    viewport: project.viewport ?? null,
    isMobile: project.isMobile ?? false,
    hasTouch: project.hasTouch ?? false,
    serviceWorkers: 'block',
  });
  const page = await ctx.newPage();
  await login(page, who);
  return page;
}

export async function goToFolder(page: Page, name: string | RegExp, testInfo: TestInfo): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Folders and labels' });
  // On a phone the folders are a screen of their own: go back to it first,
  // from the conversation through the list, unless it is already showing.
  if (isPhone(testInfo) && !(await nav.isVisible())) {
    const listBack = page.getByRole('button', { name: 'Back to the list' });
    if (await listBack.isVisible()) await listBack.click();
    await page.getByRole('link', { name: 'Folders' }).click();
  }
  await nav.getByRole('link', { name }).first().click();
}

/** The open conversation (beside the list on a desktop, alone on a phone). */
export function reader(page: Page) {
  return page.getByRole('region', { name: 'Conversation' });
}

export function row(page: Page, subject: string) {
  return page.getByRole('listitem').filter({ hasText: subject });
}

export async function openMessage(page: Page, subject: string): Promise<void> {
  await row(page, subject).getByRole('link').click();
  await expect(page.getByRole('heading', { level: 1, name: subject })).toBeVisible();
}

/** Delivers a message over SMTP to the given address. */
export async function deliverTo(to: string, subject: string, body: string, html?: string): Promise<void> {
  const from = 'sender@e2e.test';
  await deliver({ ...env.smtp, from, to: [to], data: textMessage({ from, to, subject, body, ...(html ? { html } : {}) }) });
}

export async function fillCompose(page: Page, o: { to?: string; subject?: string; body: string }): Promise<void> {
  const dialog = page.getByRole('dialog');
  if (o.to !== undefined) await dialog.locator('input[name="to"]').fill(o.to);
  if (o.subject !== undefined) await dialog.locator('input[name="subject"]').fill(o.subject);
  await dialog.getByLabel('Message').first().focus();
  // Replies start with the quote below an empty line: type above it.
  await page.keyboard.press('Control+Home');
  await page.keyboard.type(o.body);
}

export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`) });
}
