import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from './harness/browser';
import { startCodeServer, type RunningCodeServer } from './harness/codeServer';
import { CHROMIUM_BIN, CODE_SERVER_BIN, E2E_EXTENSIONS_DIR, E2E_OUTPUT_DIR, REPO_ROOT } from './harness/paths';
import { waitFor } from './harness/waits';
import {
  clickContextMenuItem,
  collapseExplorerFolder,
  expandExplorerFolders,
  allNotificationTexts,
  findInFrames,
  notificationTexts,
  openWorkbench,
  notificationButtons,
  pickQuickPickItem,
  quickOpen,
  runCommand,
  selectInExplorerAndOpenMenu,
  tabTitles,
} from './harness/workbench';
import {
  createWorkspace,
  DEMO_CONFIG,
  DEMO_CONFIG_NAME,
  E2E_CLIPS_PER_MACHINE,
  E2E_MACHINES,
  E2E_USER_SETTINGS,
  SECOND_CONFIG,
  SECOND_CONFIG_NAME,
  TOO_LARGE_CONFIG,
  TOO_LARGE_CONFIG_NAME,
  type E2eWorkspace,
} from './harness/workspace';

/**
 * The extension as a user meets it: the packaged .vsix installed into code-server (VS Code in the browser), driven in
 * Debian's chromium. `npm run test:e2e` runs scripts/e2e/setup.sh first (install code-server, package, install).
 * Screenshots and logs go to test-output/e2e/.
 */

const screenshot = (page: Page, name: string): Promise<Buffer> =>
  page.screenshot({ path: path.join(E2E_OUTPUT_DIR, `${name}.png`) });

function installedExtension(): string | undefined {
  if (!existsSync(E2E_EXTENSIONS_DIR)) return undefined;
  return readdirSync(E2E_EXTENSIONS_DIR).find((name) => name.startsWith('genrep.genrep-'));
}

/** Numeric data-value of the cells matching `selector` in `frame`. */
async function numericValues(frame: Frame, selector: string): Promise<number[]> {
  return frame.$$eval(selector, (cells) => cells.map((cell) => Number(cell.getAttribute('data-value'))));
}

/** The frame of the webview that shows the run named `name` (its title and metric table). */
async function frameShowingRun(page: Page, name: string): Promise<Frame> {
  return waitFor(`a panel showing the run "${name}"`, 60_000, async () => {
    for (const frame of page.frames()) {
      if (frame.isDetached()) continue;
      const title = await frame.$eval('[data-testid="results-title"]', (el) => el.textContent).catch(() => null);
      if (title === name && (await frame.$('[data-testid="metric-table"]'))) return frame;
    }
    return undefined;
  });
}

describe('GenRep in VS Code (code-server + chromium)', () => {
  let server: RunningCodeServer | undefined;
  let browser: LaunchedBrowser | undefined;
  let workspace: E2eWorkspace;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CODE_SERVER_BIN) || installedExtension() === undefined) {
      throw new Error(
        'code-server or the packaged extension is missing: run `npm run e2e:setup` (or `npm run test:e2e`)',
      );
    }
    rmSync(E2E_OUTPUT_DIR, { recursive: true, force: true });
    mkdirSync(E2E_OUTPUT_DIR, { recursive: true });
    workspace = createWorkspace(path.join(E2E_OUTPUT_DIR, 'workspace'));
    server = await startCodeServer({
      codeServerBin: CODE_SERVER_BIN,
      extensionsDir: E2E_EXTENSIONS_DIR,
      profileDir: path.join(E2E_OUTPUT_DIR, 'vscode-profile'),
      workspace: workspace.dir,
      userSettings: E2E_USER_SETTINGS,
      logFile: path.join(E2E_OUTPUT_DIR, 'code-server.log'),
    });
    browser = await launchChromium({
      executablePath: CHROMIUM_BIN,
      profileDir: path.join(E2E_OUTPUT_DIR, 'chromium-profile'),
      width: 1600,
      height: 1000,
    });
    page = browser.page;
    // Errors inside the webviews (two iframes deep) reach the page's console: kept for failure reports.
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await openWorkbench(page, server.url, workspace.dir);
    await screenshot(page, '01-workbench');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the demo run config is valid against schemas/run-config.schema.json', () => {
    const schema = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'schemas', 'run-config.schema.json'), 'utf8'),
    ) as object;
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    expect(validate(DEMO_CONFIG), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the Dataset Explorer lists the workspace dataset and its machine types', async ({ onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-dataset-explorer');
      console.error('notifications:', await allNotificationTexts(page));
    });
    await runCommand(page, 'GenRep: Focus on Dataset Explorer View');
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Dataset Explorer' }) });
    const rootRow = view.locator('.monaco-list-row', { hasText: `dcase2023 · ${E2E_MACHINES.length} machine types` });
    await rootRow.waitFor({ state: 'visible', timeout: 60_000 });
    if ((await rootRow.getAttribute('aria-expanded')) !== 'true') await rootRow.click();
    for (const machine of E2E_MACHINES) {
      const { train, test } = E2E_CLIPS_PER_MACHINE;
      const machineRow = view
        .locator('.monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${machine}$`) }) })
        .filter({ hasText: `${train} train · ${test} test` });
      await machineRow.waitFor({ state: 'visible', timeout: 30_000 });
    }
    await screenshot(page, '02-dataset-explorer');
    await runCommand(page, 'View: Show Explorer');
  });

  it('runs "GenRep: Run Experiment" and shows a ROC plot and metric rows per machine type', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-run-experiment');
      console.error('notifications:', await allNotificationTexts(page));
      await screenshot(page, 'failure-notifications');
    });
    await runCommand(page, 'GenRep: Run Experiment');
    // The workspace holds two run configs (the second run comes later): the command asks which one.
    await pickQuickPickItem(page, DEMO_CONFIG_NAME);

    const { frame } = await findInFrames(page, '[data-testid="metric-table"]', 120_000);
    for (const machine of E2E_MACHINES) {
      // Charts render asynchronously (vega → SVG): wait for the ROC curve's lines, not just the placeholder.
      const curves = await waitFor(`the ROC plot of ${machine} to draw its curves`, 60_000, async () => {
        const count = await frame.locator(`[data-testid="roc-plot-${machine}"] svg .mark-line path`).count();
        return count >= 2 ? count : undefined;
      });
      expect(curves).toBeGreaterThanOrEqual(2);
      const row = frame.locator(`[data-testid="metric-row-${machine}"]`);
      expect(await row.count()).toBe(1);
      expect((await row.locator('td').first().innerText()).trim()).toBe(machine);
      const [auc] = await numericValues(frame, `[data-testid="metric-row-${machine}"] td[data-metric="auc"]`);
      expect(auc).toBeGreaterThanOrEqual(0);
      expect(auc).toBeLessThanOrEqual(1);
    }
    const machineRows = await frame.$$eval('[data-testid^="metric-row-"]', (rows) =>
      rows.map((row) => row.getAttribute('data-testid')),
    );
    expect(machineRows.sort()).toEqual([...E2E_MACHINES.map((m) => `metric-row-${m}`), 'metric-row-overall'].sort());
    expect(existsSync(path.join(workspace.dir, 'results', 'results.json'))).toBe(true);
    await screenshot(page, '03-results-panel');
    await frame.locator(`[data-testid="roc-plot-${E2E_MACHINES[E2E_MACHINES.length - 1]}"]`).scrollIntoViewIfNeeded();
    await screenshot(page, '04-results-roc-plots');
  });

  it('builds a memory bank and scores two .wav files selected in the explorer', async ({ onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-score-files');
      console.error('notifications:', await allNotificationTexts(page));
      await screenshot(page, 'failure-notifications');
    });
    const machine = E2E_MACHINES[0];
    await runCommand(page, 'GenRep: Build Memory Bank');
    await pickQuickPickItem(page, machine);
    await waitFor('the "Memory bank saved" notification', 120_000, async () =>
      (await notificationTexts(page)).some((text) => text.includes('Memory bank saved')) ? true : undefined,
    );
    const bankDir = path.join(workspace.dir, '.genrep', 'banks');
    expect(readdirSync(bankDir).filter((name) => name.endsWith('.grbank'))).toHaveLength(1);

    const { folder, names } = workspace.clipsToScore;
    await runCommand(page, 'View: Show Explorer');
    await expandExplorerFolders(page, folder);
    await selectInExplorerAndOpenMenu(page, names);
    await screenshot(page, '05-explorer-context-menu');
    await clickContextMenuItem(page, 'Score Selected WAV Files');

    const { frame } = await findInFrames(page, '[data-testid="scored-view"] [data-testid^="scored-row-"]', 120_000);
    const rows = await frame.$$eval('[data-testid^="scored-row-"]', (trs) =>
      trs.map((tr) => ({
        path: tr.getAttribute('data-path'),
        score: Number(tr.querySelector('td:nth-child(2)')?.getAttribute('data-value')),
      })),
    );
    const expected = names.map((name) => path.join(workspace.dir, folder, name)).sort();
    expect(rows.map((row) => row.path).sort()).toEqual(expected);
    for (const row of rows) expect(Number.isFinite(row.score)).toBe(true);
    const summary = await frame.locator('[data-testid="scored-summary"]').innerText();
    expect(summary).toMatch(/of 2 flagged as anomalous/);
    // Two clips: a strip plot (one point per clip), not a histogram with fractional counts.
    await frame.locator('[data-testid="strip-plot-scored"] svg').first().waitFor({ state: 'visible', timeout: 30_000 });
    expect(await frame.locator('[data-testid^="histogram-"]').count()).toBe(0);
    // Unlabelled files among the bank's own training scores: the strip plot's context row.
    expect(await frame.locator('[data-testid="strip-plot-scored"] svg').first().textContent()).toContain(
      'bank training clips',
    );
    expect((await tabTitles(page)).some((title) => title.startsWith(`Scores · ${machine} · `))).toBe(true);
    await screenshot(page, '06-scored-files');
  });

  it('scoring a clip whose machine type has no bank offers a choice, and building the bank scores it', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-no-bank-choice');
      console.error('notifications:', await allNotificationTexts(page));
    });
    const machine = E2E_MACHINES[1];
    const { folder, name } = workspace.otherClip;
    await runCommand(page, 'View: Show Explorer');
    await collapseExplorerFolder(page, E2E_MACHINES[0]);
    await expandExplorerFolders(page, folder);
    await selectInExplorerAndOpenMenu(page, [name]);
    await clickContextMenuItem(page, 'Score Selected WAV Files');

    const widget = page.locator('.quick-input-widget');
    const build = widget.locator('.monaco-list-row', { hasText: `Build ${machine} bank now` });
    await build.waitFor({ state: 'visible', timeout: 60_000 });
    expect(await widget.innerText()).toContain(`No ${machine} memory bank`);
    for (const choice of ['Use another bank…', 'Skip these files']) {
      expect(await widget.locator('.monaco-list-row', { hasText: choice }).count()).toBe(1);
    }
    await screenshot(page, '07-no-bank-choice');
    await build.click();

    const { frame } = await findInFrames(page, `[data-testid^="scored-row-"][data-path$="${name}"]`, 180_000);
    const scores = await numericValues(frame, `[data-testid^="scored-row-"][data-path$="${name}"] td:nth-child(2)`);
    expect(scores).toHaveLength(1);
    expect(Number.isFinite(scores[0])).toBe(true);
    const bankDir = path.join(workspace.dir, '.genrep', 'banks');
    expect(
      readdirSync(bankDir).filter((file) => file.startsWith(`${machine}-`) && file.endsWith('.grbank')),
    ).toHaveLength(1);
    await waitFor(`a "Scores · ${machine}" tab`, 30_000, async () =>
      (await tabTitles(page)).some((title) => title.startsWith(`Scores · ${machine} · `)) ? true : undefined,
    );
    await screenshot(page, '08-scored-after-building-bank');
  });

  it('a second run opens in its own titled panel, and the Runs view lists both runs', async ({ onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-two-runs');
      console.error('notifications:', await allNotificationTexts(page));
      console.error('console errors:', consoleErrors);
    });
    await runCommand(page, 'GenRep: Run Experiment');
    await pickQuickPickItem(page, SECOND_CONFIG_NAME);
    await waitFor(`the "${SECOND_CONFIG.name}" run's panel`, 180_000, async () =>
      (await tabTitles(page)).some((title) => title.startsWith(`${SECOND_CONFIG.name} · `)) ? true : undefined,
    );
    // The second run's panel shows that run (not the first run's content, and not an empty page).
    await frameShowingRun(page, SECOND_CONFIG.name);
    const titles = await tabTitles(page);
    expect(titles.filter((title) => /^e2e demo · \d\d:\d\d/.test(title))).toHaveLength(1);
    expect(titles.filter((title) => /^e2e second · \d\d:\d\d/.test(title))).toHaveLength(1);
    expect(existsSync(path.join(workspace.dir, SECOND_CONFIG.output, 'results.json'))).toBe(true);

    await runCommand(page, 'GenRep: Focus on Runs View');
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^\s*Runs/ }) });
    for (const run of [DEMO_CONFIG.name, SECOND_CONFIG.name]) {
      const row = view.locator('.monaco-list-row', { hasText: run });
      await row.first().waitFor({ state: 'visible', timeout: 30_000 });
      expect(await row.first().innerText()).toMatch(/official \d+\.\d\d%.*complete/s);
    }
    await screenshot(page, '09-two-runs-and-history');
  });

  it('an offline checkpoint download says where to put the file and offers the ways that need no network', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-offline-download');
      console.error('notifications:', await allNotificationTexts(page));
    });
    // The palette now and then closes on the click without running the command: ask again until the list shows.
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'beats_ft1' }).first();
    await waitFor('the list of known checkpoints', 90_000, async () => {
      await runCommand(page, 'GenRep: Download BEATs Checkpoint');
      return (await row
        .waitFor({ state: 'visible', timeout: 15_000 })
        .then(() => true)
        .catch(() => false))
        ? true
        : undefined;
    });
    await pickQuickPickItem(page, 'beats_ft1');
    const text = 'Without a connection';
    const buttons = await waitFor('the failed-download notification', 120_000, async () => {
      const found = await notificationButtons(page, text);
      return found.length > 0 ? found : undefined;
    });
    expect(buttons).toEqual(['Open Models Folder', 'Choose a Local .pt…', 'Use fbank-stats', 'Retry']);
    const message = (await notificationTexts(page)).find((t) => t.includes(text)) ?? '';
    expect(message).toMatch(/place it at .*BEATs_iter3_plus_AS2M_finetuned_on_AS2M_cpt1\.pt/);
    await screenshot(page, '10-offline-download');
    await page
      .locator('.notifications-toasts .notification-list-item', { hasText: text })
      .locator('.monaco-button', { hasText: 'Use fbank-stats' })
      .click();
  });

  it('"GenRep: Get Started" opens the walkthrough', async ({ onTestFailed }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-walkthrough');
    });
    await runCommand(page, 'GenRep: Get Started');
    const walkthrough = page.locator('.gettingStartedContainer', { hasText: 'Get Started with GenRep' });
    await walkthrough.first().waitFor({ state: 'visible', timeout: 60_000 });
    for (const step of ['dataset', 'config', 'BEATs']) {
      expect(await walkthrough.first().innerText()).toContain(step);
    }
    await screenshot(page, '11-walkthrough');
  });

  it('a K_s larger than the source bank is an error in Problems before any run, and its quick fix repairs it', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-config-diagnostics');
      console.error('notifications:', await allNotificationTexts(page));
    });
    const name = TOO_LARGE_CONFIG_NAME;
    const file = path.join(workspace.dir, name);
    const output = TOO_LARGE_CONFIG.output;
    await quickOpen(page, name);
    await runCommand(page, 'Problems: Focus on Problems View');
    const markers = page.locator('.markers-panel .monaco-list-row', {
      hasText: 'K_s = 5000 is larger than the source bank',
    });
    await markers.first().waitFor({ state: 'visible', timeout: 60_000 });
    expect(await markers.count()).toBe(1);
    const marker = markers.first();
    const label = (await marker.getAttribute('aria-label')) ?? '';
    expect(/error/i.test(label) || (await marker.locator('.codicon-error').count()) > 0, label).toBe(true);
    expect(await marker.innerText()).toContain('use at most 40');
    await screenshot(page, '12-problems-k-s');

    // The marker puts the cursor on /mixup/K_s; the quick fix sets it to the bank size.
    await marker.dblclick();
    await runCommand(page, 'Quick Fix...');
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Set K_s to 40' });
    await fix.first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, '13-quick-fix');
    // The only fix is focused when the widget opens; a mouse click races the widget's own hover handling.
    await page.keyboard.press('Enter');
    await runCommand(page, 'File: Save');
    await waitFor('the saved config to hold K_s = 40', 30_000, () => {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { mixup: { K_s: number } };
      return Promise.resolve(saved.mixup.K_s === 40 ? true : undefined);
    });
    await waitFor('the K_s problem to go away', 30_000, async () => ((await markers.count()) === 0 ? true : undefined));
    expect(existsSync(path.join(workspace.dir, output))).toBe(false);
    await screenshot(page, '14-problem-fixed');
  });

  it('explains an anomalous clip of a run: a heat map over its spectrogram and the nearest normal clip to play', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-explain');
      console.error('notifications:', await allNotificationTexts(page));
      console.error('console errors:', consoleErrors);
    });
    await page
      .locator('.tabs-container .tab', { hasText: `${DEMO_CONFIG.name} · ` })
      .first()
      .click();
    const frame = await frameShowingRun(page, DEMO_CONFIG.name);
    // A test clip that is anomalous and that the detector flagged.
    const row = frame.locator('tr.anomaly.flagged[data-testid^="file-row-"]').first();
    await row.waitFor({ state: 'attached', timeout: 30_000 });
    const rowId = await row.getAttribute('data-testid');
    await frame.locator(`[data-testid="explain-button-${rowId}"]`).click();
    const view = frame.locator('[data-testid="explain-view"]');
    await view.locator('[data-testid="explain-heatmap"]').waitFor({ state: 'visible', timeout: 120_000 });
    await view.locator('[data-testid="explain-per-time"]').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await view.locator('[data-testid="explain-decomposition"]').innerText()).toMatch(/Σ/);
    const nearest = view.locator('h5[data-testid="explain-nearest"]');
    await nearest.waitFor({ state: 'visible', timeout: 60_000 });
    expect(await nearest.innerText()).toMatch(/^Nearest normal: \S+\.wav$/);
    await view.locator('[data-testid="explain-nearest-spectrogram"]').waitFor({ state: 'visible', timeout: 60_000 });
    const ab = view.locator('[data-testid="explain-play-ab"]');
    expect(await ab.isEnabled()).toBe(true);
    await view.scrollIntoViewIfNeeded();
    await screenshot(page, '15-explain-clip');
  });

  it('compares the two runs from the Runs view: metric deltas per machine type, overlaid ROC curves, changed clips', async ({
    onTestFailed,
  }) => {
    onTestFailed(async () => {
      await screenshot(page, 'failure-compare');
      console.error('notifications:', await allNotificationTexts(page));
      console.error('console errors:', consoleErrors);
    });
    // From the palette the command asks which runs (the Runs view's own button takes its selection instead).
    await runCommand(page, 'GenRep: Compare Runs');
    const picker = page.locator('.quick-input-widget');
    await picker.waitFor({ state: 'visible', timeout: 60_000 });
    for (const run of [DEMO_CONFIG.name, SECOND_CONFIG.name]) {
      await picker.locator('.monaco-list-row', { hasText: run }).first().click();
    }
    await waitFor('two runs ticked', 15_000, async () =>
      /2 Selected/.test(await picker.locator('.quick-input-count').first().innerText()) ? true : undefined,
    );
    await screenshot(page, '16-compare-pick-runs');
    await picker.locator('.monaco-button', { hasText: 'OK' }).first().click();
    const { frame } = await findInFrames(page, '[data-testid="compare-delta-table"]', 120_000);
    for (const machine of [...E2E_MACHINES, 'hmean']) {
      await frame
        .locator(`[data-testid="compare-row-${machine}"]`)
        .first()
        .waitFor({ state: 'attached', timeout: 30_000 });
    }
    for (const machine of E2E_MACHINES) {
      await waitFor(`the overlaid ROC curves of ${machine}`, 60_000, async () =>
        (await frame.locator(`[data-testid="compare-roc-${machine}"] svg .mark-line path`).count()) >= 2
          ? true
          : undefined,
      );
    }
    // The two runs differ in DN only: the config differences name /dn.
    expect(await frame.locator('[data-testid="compare-config-diff"]').innerText()).toContain('/dn');
    await frame.locator('[data-testid="compare-changed"]').waitFor({ state: 'attached', timeout: 30_000 });
    expect((await tabTitles(page)).some((title) => title.startsWith('Compare · '))).toBe(true);
    await screenshot(page, '17-compare-runs');
  });
});
