// A headless Chromium for browser tests: the machine's (Debian's chromium, installed by
// infra/local/chromium.sh when missing) driven by playwright-core, which never downloads one.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, LaunchOptions, Page } from 'playwright-core';
import { defaultInfraDir, scriptOutput } from './infrastructure.js';

export type { Browser, BrowserContext, LaunchOptions, Page } from 'playwright-core';

/** Where `saveScreenshot` writes: the repository's .test-results/screenshots (gitignored). */
export const screenshotDir = fileURLToPath(
  new URL('../../../.test-results/screenshots', import.meta.url),
);

/**
 * The Chromium binary to drive: GATEHOUSE_CHROMIUM when set, else what
 * `infra/local/chromium.sh path` prints (it installs Debian's chromium when there is none).
 */
export async function chromiumExecutable(
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  if (env.GATEHOUSE_CHROMIUM) return env.GATEHOUSE_CHROMIUM;
  const path = (await scriptOutput(defaultInfraDir, 'chromium.sh', ['path'])).trim();
  if (!path) throw new Error('chromium.sh path printed no path');
  return path;
}

/**
 * Launches a headless Chromium; `options` go to playwright-core's `chromium.launch` and win over
 * the defaults. The caller closes the browser (`await browser.close()`, in `afterAll`).
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? (await chromiumExecutable());
  // Loaded here, not at the top: every integration test imports this package, few drive a browser.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    headless: true,
    // Chromium refuses to start its sandbox as root; anyone else keeps it.
    // (playwright-core passes --no-sandbox unless chromiumSandbox is true.)
    chromiumSandbox: process.getuid?.() !== 0,
    ...options,
    executablePath,
  });
}

/**
 * Saves a full-page screenshot as .test-results/screenshots/<name>.png and returns its path.
 * Characters other than letters, digits, `.`, `_` and `-` in `name` become `-`.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
