// Playwright (playwright-core) driving Debian's Chromium, for the dashboard
// tests. Nothing is downloaded: without /usr/bin/chromium the tests skip and
// say how to install it.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const installed = existsSync(CHROMIUM);
/**
 * Whether the browser tests run. Under CI=true they always do, and fail at
 * launch when Chromium is missing: a skip there would pass a run without them.
 */
export const hasChromium = installed || process.env.CI === 'true';
export const SKIP_REASON = `browser tests skipped: ${CHROMIUM} is missing (install it with: apt-get update && apt-get install -y chromium)`;

export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  if (!installed) return Promise.reject(new Error(`CI=true and ${CHROMIUM} is missing: the browser tests cannot run (apt-get install -y chromium)`));
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A full-page screenshot under test-output/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  // The top bar is sticky: from the top it sits where it belongs in a full-page shot.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Fails on anything that scrolls sideways: the page must fit its viewport. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
