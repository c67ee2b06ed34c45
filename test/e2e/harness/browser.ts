import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Flags headless Debian chromium needs here: no sandbox as root, no GPU, and none of the background connections
 * (component updates, sync, field trials) that this closed network refuses many at a time.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export interface LaunchedBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Launches chromium with a fresh profile folder (wiped first) and one page of the given size. Its XDG folders are
 * inside the profile too: GTK would otherwise create ~/.config and ~/.cache entries (dconf) on the machine.
 */
export async function launchChromium(options: {
  executablePath: string;
  profileDir: string;
  width: number;
  height: number;
}): Promise<LaunchedBrowser> {
  rmSync(options.profileDir, { recursive: true, force: true });
  const context = await chromium.launchPersistentContext(options.profileDir, {
    executablePath: options.executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width, height: options.height },
    timeout: 60_000,
    env: {
      ...process.env,
      XDG_CONFIG_HOME: path.join(options.profileDir, 'xdg-config'),
      XDG_CACHE_HOME: path.join(options.profileDir, 'xdg-cache'),
    },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      // Playwright ends chromium's process group itself; bound the wait in case the browser hangs.
      await Promise.race([context.close(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    },
  };
}
