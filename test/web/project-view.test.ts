import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { responses } from '../../src/db/schema.js';
import { webBuildDir } from '../../src/rest/routes/web.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { DESKTOP, hasChromium, horizontalOverflow, launchChromium, PHONE, screenshot, SKIP_REASON } from './browser.js';

if (!hasChromium) console.warn(SKIP_REASON);

describe('web dashboard bundle', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the page and its assets from the gateway, compressed, with a strict CSP, small', async () => {
    const page = await fetch(`${gw.url}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const path of assets) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control')).toContain('immutable');
    }
    // Raw gzip sizes of everything the build produced, through undici without auto-decompression.
    const { request } = await import('undici');
    let total = 0;
    const all = new Set(assets);
    for (const m of html.matchAll(/\/assets\/[\w.-]+/g)) all.add(m[0]);
    for (const path of all) {
      const res = await request(`${gw.url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      const body = Buffer.from(await res.body.arrayBuffer());
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(body).length).toBeGreaterThan(0);
      total += body.length;
    }
    // The entry (shell + sign-in) must stay tiny; views load on demand.
    expect(total).toBeLessThan(25_000);
    // The whole build (both views, charts, GraphQL client) stays small enough to ship.
    const dir = webBuildDir()!;
    const everything = readdirSync(join(dir, 'assets')).reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, 'assets', f)), { level: 9 }).length, 0);
    console.info(`web bundle: entry ${total} B gzip, everything ${everything} B gzip`);
    expect(everything).toBeLessThan(80_000);
    const consolePage = await fetch(`${gw.url}/console`);
    expect(consolePage.status).toBe(200);
    expect((await fetch(`${gw.url}/assets/nope.js`)).status).toBe(404);
  }, 120_000);
});

describe.skipIf(!hasChromium)('project view in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let project: Awaited<ReturnType<TestGateway['project']>>;

  beforeAll(async () => {
    gw = await startGateway();
    browser = await launchChromium();
    // The first page request builds the bundle when it is missing.
    await fetch(`${gw.url}/`);
    project = await gw.project({ balance: '25' });
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
  });

  it('refuses a wrong key in plain words, then signs in with a project key kept only in session storage', async () => {
    context = await browser.newContext({ viewport: DESKTOP });
    // A missing element fails the step that waits for it, with its name, well before the test times out.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    await page.goto(`${gw.url}/`);
    const form = page.getByTestId('signin-project');
    await form.waitFor();
    // First paint well under a second on loopback.
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
    expect(fcp).toBeLessThan(1000);
    await form.locator('input[name=secret]').fill('pk_test_wrongwrongwrongwrong');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('signin-project-error').textContent()).toContain('not accepted');

    await form.locator('input[name=secret]').fill(project.secret);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('key-id').waitFor();
    expect(await page.getByTestId('key-id').textContent()).toBe(project.keyId);
    expect(await page.getByTestId('stat-balance').textContent()).toContain('$25.00');
    expect(await page.getByTestId('base-url').textContent()).toContain(`${gw.url}/v1`);
    expect(page.url()).not.toContain(project.secret);
    const stored = await page.evaluate(() => ({ local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
    expect(stored.local).not.toContain(project.secret);
    expect(stored.session).toContain(project.secret);
    // The snippet shows the key masked, never whole.
    expect(await page.getByTestId('snippet').textContent()).not.toContain(project.secret);
  });

  it('streams a playground answer and shows its tokens and cost', async () => {
    await page.getByTestId('pg-model').locator('option').first().waitFor({ state: 'attached' });
    await page.getByTestId('pg-input').fill('Hello from the browser playground');
    await page.getByTestId('pg-send').click();
    // The mock echoes the last user message, streamed in chunks.
    await expect.poll(() => page.getByTestId('answer').last().textContent(), { timeout: 10_000 }).toContain('Hello from the browser playground');
    const stats = page.getByTestId('call-stats').last();
    await expect.poll(() => stats.textContent(), { timeout: 10_000 }).toMatch(/\d+ prompt \+ \d+ completion tokens · \$0\.00 \(test key, not charged\)/);
    expect(await stats.textContent()).toMatch(/req_\w+/);
    // The project's numbers refresh after the call.
    await expect.poll(() => page.getByTestId('stat-requests').textContent(), { timeout: 10_000 }).toMatch(/^Requests · 24h1/);
    await page.getByTestId('by-model').waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'project-1280');
  });

  it('switches the playground to the Responses API, each turn continuing the stored one', async () => {
    await page.getByTestId('pg-api').selectOption('responses');
    for (const [i, text] of ['First turn through responses', 'Second turn, chained'].entries()) {
      await page.getByTestId('pg-input').fill(text);
      await page.getByTestId('pg-send').click();
      await expect.poll(() => page.getByTestId('answer').last().textContent(), { timeout: 10_000 }).toContain(text);
      await expect.poll(() => page.getByTestId('call-stats').last().textContent(), { timeout: 10_000 }).toMatch(/\d+ prompt \+ \d+ completion tokens · \$0\.00/);
      const stored = await gw.database.db.select().from(responses).where(eq(responses.projectId, project.projectId)).orderBy(responses.createdAt);
      expect(stored).toHaveLength(i + 1);
      expect(stored[i]!.previousResponseId).toBe(i === 0 ? null : stored[0]!.id);
    }
    // The recent requests name the door each came through.
    await expect.poll(() => page.getByTestId('recent-endpoint').first().textContent(), { timeout: 10_000 }).toBe('responses');
    expect(await page.getByTestId('recent-endpoint').last().textContent()).toBe('chat/completions');
    await page.getByTestId('pg-api').selectOption('chat');
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize(PHONE);
    // Waits for the resize to reach the page, then for the layout to settle within it (charts redraw on resize).
    await page.waitForFunction((width) => window.innerWidth === width, PHONE.width);
    await expect.poll(() => horizontalOverflow(page), { timeout: 5_000 }).toBeLessThanOrEqual(0);
    await screenshot(page, 'project-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('explains a refused call in plain words (an empty live balance), without streaming anything', async () => {
    const broke = await gw.project({ mode: 'live', balance: '0' });
    const other = await browser.newContext({ viewport: DESKTOP });
    other.setDefaultTimeout(10_000);
    const p = await other.newPage();
    await p.goto(`${gw.url}/`);
    await p.getByTestId('signin-project').locator('input[name=secret]').fill(broke.secret);
    await p.getByTestId('signin-project').getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('pg-model').locator('option').first().waitFor({ state: 'attached' });
    expect(await p.getByTestId('stat-balance').textContent()).toContain('$0.00');
    await p.getByTestId('pg-input').fill('Will this be paid for?');
    await p.getByTestId('pg-send').click();
    const error = await p.getByTestId('pg-error').textContent();
    expect(error).toMatch(/balance/i);
    expect(error).toContain('Top up the balance');
    expect(await p.getByTestId('answer').count()).toBe(0);
    await other.close();
  });

  it('signs out and forgets the key', async () => {
    await page.getByTestId('sign-out').click();
    await page.getByTestId('signin-project').waitFor();
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(project.secret);
    await screenshot(page, 'signin-1280');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'signin-phone');
  });
});
