import { expect, test } from '@playwright/test';
import { env, unique } from './env';
import { deliverTo, goToFolder, login, openMessage, row, screenshot } from './helpers';

test('create a label, apply it, and find the message in the label view', async ({ page }, testInfo) => {
  await login(page, env.alice);
  const subject = unique('Labelled ');
  await deliverTo(env.alice.user, subject, 'label me');
  await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });

  const name = unique('Proj');
  if (testInfo.project.name === 'phone') await page.getByRole('link', { name: 'Folders' }).click();
  await page.getByRole('button', { name: 'Manage labels' }).click();
  const dialog = page.getByRole('dialog', { name: 'Labels' });
  await dialog.getByLabel('New label').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog.getByText(name)).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  if (testInfo.project.name === 'phone') await goToFolder(page, /Inbox/, testInfo);

  await openMessage(page, subject);
  await page.getByRole('toolbar', { name: 'Conversation actions' }).getByRole('button', { name: 'Labels' }).click();
  await page.getByRole('group', { name: 'Labels' }).getByLabel(name).check();
  await expect(page.getByRole('list', { name: 'Labels' }).getByText(name)).toBeVisible();
  await screenshot(page, testInfo, 'labelled');

  await goToFolder(page, name, testInfo);
  await expect(row(page, subject)).toBeVisible();
  await expect(row(page, subject).getByText(name)).toBeVisible();
});

test('search shows results as one types', async ({ page }, testInfo) => {
  await login(page, env.alice);
  const word = unique('zebra');
  const subject = unique('Searchable ');
  await deliverTo(env.alice.user, subject, `The secret word is ${word}.`);
  await expect(row(page, subject)).toBeVisible({ timeout: 20_000 });
  await page.getByLabel('Search mail').pressSequentially(word, { delay: 30 });
  await expect(page).toHaveURL(new RegExp(`/search/${word}`));
  await expect(row(page, subject)).toBeVisible();
  await expect(page.getByRole('list', { name: 'Conversations' }).getByRole('listitem')).toHaveCount(1);
  await screenshot(page, testInfo, 'search');
});

test('multi-select with shift-click, mark read, archive', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'phone', 'shift-click needs a keyboard');
  await login(page, env.alice);
  const subjects = [unique('Bulk1 '), unique('Bulk2 '), unique('Bulk3 ')];
  for (const s of subjects) await deliverTo(env.alice.user, s, 'bulk');
  for (const s of subjects) await expect(row(page, s)).toBeVisible({ timeout: 20_000 });
  await row(page, subjects[2] as string).getByRole('checkbox').click();
  await row(page, subjects[0] as string).getByRole('checkbox').click({ modifiers: ['Shift'] });
  await expect(page.getByText('3 selected')).toBeVisible();
  await page.getByRole('toolbar', { name: 'Selected conversations' }).getByRole('button', { name: 'Archive' }).click();
  for (const s of subjects) await expect(row(page, s)).toHaveCount(0);
  await goToFolder(page, /Archive/, testInfo);
  for (const s of subjects) await expect(row(page, s)).toBeVisible();
});
