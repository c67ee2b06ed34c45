import type { ElementHandle, Frame, Page } from 'playwright-core';
import { waitFor } from './waits';

/** Opens the folder in the workbench and waits until the explorer shows it. */
export async function openWorkbench(page: Page, baseUrl: string, folder: string): Promise<void> {
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}`, {
    timeout: 60_000,
    waitUntil: 'domcontentloaded',
  });
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 90_000 });
}

/**
 * Runs a command from the command palette by its full title ("GenRep: Run Experiment"). The palette lists the
 * commands known when it opens, and extensions register theirs a while after the workbench appears: reopen it until
 * the command shows up, then click exactly that row (Enter would run whichever row sorts first).
 */
export async function runCommand(page: Page, title: string, timeoutMs = 90_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const labels = page.locator('.quick-input-widget .monaco-list-row .label-name');
  await waitFor(
    `the command palette to list "${title}"`,
    timeoutMs,
    async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(`>${title}`);
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const texts = await labels.allInnerTexts();
        const index = texts.findIndex((label) => label.replace(/\s+/g, ' ').trim() === title);
        if (index >= 0) {
          await labels.nth(index).click({ timeout: 10_000 });
          return true;
        }
        await page.waitForTimeout(250);
      }
      return undefined;
    },
    1_000,
  );
}

/** Answers the open quick pick by choosing the row whose label contains `label` (or pressing Enter on the first row). */
export async function pickQuickPickItem(page: Page, label: string | undefined, timeoutMs = 60_000): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: timeoutMs });
  if (label === undefined) {
    await page.keyboard.press('Enter');
    return;
  }
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click({ timeout: 10_000 });
}

/** Types into the open input box (showInputBox) and accepts it. */
export async function answerInputBox(page: Page, text: string, timeoutMs = 60_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  await input.fill(text);
  await page.keyboard.press('Enter');
}

/**
 * Finds an element in any frame of the page. Webviews live two iframes deep (the webview host frame, then the
 * content frame), so the top page's DOM never holds them.
 */
export async function findInFrames(
  page: Page,
  selector: string,
  timeoutMs: number,
): Promise<{ frame: Frame; element: ElementHandle }> {
  return waitFor(
    `"${selector}" in a frame of the page`,
    timeoutMs,
    async () => {
      for (const frame of page.frames()) {
        if (frame.isDetached()) continue;
        const element = await frame.$(selector).catch(() => null);
        if (element) return { frame, element };
      }
      return undefined;
    },
    500,
  );
}

/** The text of every element matching `selector` in the given frame. */
export async function textsIn(frame: Frame, selector: string): Promise<string[]> {
  return frame.$$eval(selector, (elements) =>
    elements.map((element) => (element.textContent ?? '').replace(/\s+/g, ' ').trim()),
  );
}

/** The explorer row of a file or folder, by its name as shown. */
export function explorerRow(page: Page, name: string) {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
}

/** Expands folders along `folderPath` (a/b/c) in the explorer, one level at a time. */
export async function expandExplorerFolders(page: Page, folderPath: string): Promise<void> {
  for (const name of folderPath.split('/').filter(Boolean)) {
    const row = explorerRow(page, name);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await waitFor(`explorer folder ${name} to expand`, 15_000, async () =>
      (await row.getAttribute('aria-expanded')) === 'true' ? true : undefined,
    );
  }
}

/** Collapses an expanded explorer folder (a long expanded sibling would push the next folder out of the list). */
export async function collapseExplorerFolder(page: Page, name: string): Promise<void> {
  const row = explorerRow(page, name);
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) !== 'true') return;
  await row.click();
  await waitFor(`explorer folder ${name} to collapse`, 15_000, async () =>
    (await row.getAttribute('aria-expanded')) === 'false' ? true : undefined,
  );
}

/** Selects the given files in the explorer (click, then ctrl+click) and opens their context menu. */
export async function selectInExplorerAndOpenMenu(page: Page, names: readonly string[]): Promise<void> {
  for (const [index, name] of names.entries()) {
    const row = explorerRow(page, name);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.click({ modifiers: index === 0 ? [] : ['Control'] });
  }
  await waitFor(`${names.length} files selected in the explorer`, 15_000, async () => {
    const selected = await page
      .locator('.explorer-folders-view .monaco-list-row[aria-selected="true"]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label')));
    return names.every((name) => selected.includes(name)) && selected.length === names.length ? true : undefined;
  });
  await explorerRow(page, names[names.length - 1]!).click({ button: 'right' });
  await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'visible', timeout: 15_000 });
}

/** Clicks the context-menu entry whose label is `label`. */
export async function clickContextMenuItem(page: Page, label: string): Promise<void> {
  const item = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: label }).first();
  await item.waitFor({ state: 'visible', timeout: 15_000 });
  await item.click();
  // Now and then the menu highlights the entry but swallows the click (it is still animating in): the entry is
  // focused then, so Enter runs it.
  const menu = page.locator('.context-view .monaco-menu').first();
  const closed = await menu
    .waitFor({ state: 'hidden', timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
  if (!closed) await page.keyboard.press('Enter');
}

/** The texts of the notification toasts now shown (errors from the extension surface here). */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** Every notification of the session, toasts that have already hidden themselves included (for failure reports). */
export async function allNotificationTexts(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications', 15_000).catch(() => undefined);
  return page.locator('.notifications-center .notification-list-item-message').allInnerTexts();
}

/** The titles of the editor tabs now open (webview panels included), from each tab's aria-label. */
export async function tabTitles(page: Page): Promise<string[]> {
  return page
    .locator('.tabs-container .tab')
    .evaluateAll((tabs) => tabs.map((tab) => tab.getAttribute('aria-label') ?? ''));
}

/** The buttons of the toast whose message contains `text` (empty when no such toast is shown). */
export async function notificationButtons(page: Page, text: string): Promise<string[]> {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
  if ((await toast.count()) === 0) return [];
  return toast.locator('.notification-list-item-buttons-container .monaco-button').allInnerTexts();
}

/** Opens a workspace file by name through Quick Open (Ctrl+P), reopening it until the file index lists the file. */
export async function quickOpen(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
  await waitFor(
    `Quick Open to list ${name}`,
    60_000,
    async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(name);
      const listed = await row
        .waitFor({ state: 'visible', timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (!listed) return undefined;
      await row.click();
      return true;
    },
    1_000,
  );
}
