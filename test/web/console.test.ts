import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerInfos } from '../../src/providers/registry.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { DESKTOP, hasChromium, horizontalOverflow, launchChromium, PHONE, screenshot, SKIP_REASON } from './browser.js';

if (!hasChromium) console.warn(SKIP_REASON);

describe.skipIf(!hasChromium)('operator console in Chromium', () => {
  let gw: TestGateway;
  let emulator: Emulator;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let project: Awaited<ReturnType<TestGateway['project']>>;
  /** The server side of every websocket the page opened, to cut them like a network failure would. */
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    [gw, emulator, browser] = await Promise.all([startGateway(), startOpenAIEmulator(), launchChromium()]);
    gw.app.server.on('upgrade', (_request, socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    // The first page request builds the bundle when it is missing.
    await fetch(`${gw.url}/console`);
    project = await gw.project({ balance: '40' });
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
    await emulator?.close();
  });

  it('refuses a project key and a wrong token, then signs in with the operator token', async () => {
    context = await browser.newContext({ viewport: DESKTOP });
    // A missing element fails the step that waits for it, with its name, well before the test times out.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    await page.goto(`${gw.url}/console`);
    const form = page.getByTestId('signin-operator');
    await form.locator('input[name=secret]').fill(project.secret);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('signin-operator-error').textContent()).toContain('That is a project key');
    await form.locator('input[name=secret]').fill('not-the-token-at-all');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('signin-operator-error').textContent()).toContain('not accepted');

    await form.locator('input[name=secret]').fill(gw.adminToken);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`[data-project-id="${project.projectId}"]`).waitFor();
    expect(await page.locator(`[data-project-id="${project.projectId}"]`).getByTestId('project-balance').textContent()).toBe('$40.00');
    await expect.poll(() => page.getByTestId('live-state').textContent(), { timeout: 10_000 }).toContain('live');
    expect(page.url()).not.toContain(gw.adminToken);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(gw.adminToken);
  });

  it('shows a REST call in the live usage feed the moment it settles', async () => {
    const answer = await gw.client(project.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'live feed check' }] });
    expect(answer.choices[0]!.message.content).toBeTruthy();
    const row = page.getByTestId('feed-row').first();
    await row.waitFor({ timeout: 10_000 });
    const text = await row.textContent();
    expect(text).toContain('gpt-4o-mini');
    expect(text).toMatch(/ok/);
    await expect.poll(() => page.getByTestId('stat-rps').locator('.value').textContent(), { timeout: 5_000 }).not.toBe('0');
  });

  it('issues a key through the UI: the secret is shown once, copyable, and works', async () => {
    await page.locator(`[data-project-id="${project.projectId}"]`).getByRole('button', { name: 'Key' }).click();
    await page.getByTestId('key-name').fill('from-the-console');
    await page.getByTestId('key-submit').click();
    const secret = (await page.getByTestId('new-secret-value').textContent({ timeout: 10_000 }))!.trim();
    expect(secret).toMatch(/^pk_test_\w+/);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    await page.getByTestId('copy-secret').click();
    await expect.poll(() => page.getByTestId('copy-secret').textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(models.status).toBe(200);
    // Nothing secret was put in storage or the address bar.
    expect(page.url()).not.toContain(secret);
    expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).not.toContain(secret);
  });

  it('credits a balance through the UI', async () => {
    await page.locator(`[data-project-id="${project.projectId}"]`).getByRole('button', { name: 'Credit' }).click();
    await page.getByTestId('credit-amount').fill('2.5');
    await page.getByTestId('credit-submit').click();
    await expect.poll(() => page.getByTestId('form-done').textContent(), { timeout: 10_000 }).toContain('$42.50');
    await expect.poll(() => page.locator(`[data-project-id="${project.projectId}"]`).getByTestId('project-balance').textContent()).toBe('$42.50');
  });

  it('creates a project and limits its models through the UI', async () => {
    await page.getByRole('button', { name: 'New project' }).click();
    const form = page.getByTestId('form-project');
    await form.locator('input[name=name]').fill('made-in-the-console');
    await form.locator('input[name=initialBalance]').fill('7.25');
    await form.getByRole('button', { name: 'Create project' }).click();
    await expect.poll(() => form.getByTestId('form-done').textContent(), { timeout: 10_000 }).toContain('made-in-the-console');
    const row = page.getByTestId('project-row').filter({ hasText: 'made-in-the-console' });
    await row.waitFor();
    expect(await row.getByTestId('project-balance').textContent()).toBe('$7.25');
    const projectId = (await row.getAttribute('data-project-id'))!;

    await row.getByRole('button', { name: 'Models' }).click();
    const models = page.getByTestId('form-models');
    await models.getByLabel('Every model', { exact: false }).uncheck();
    await models.getByLabel('gemini-2.0-flash', { exact: true }).check();
    await models.getByRole('button', { name: 'Save permissions' }).click();
    await expect.poll(() => models.getByTestId('form-done').textContent(), { timeout: 10_000 }).toContain('1 model');
    const allowed = await gw.gateway.permissions.allowed(projectId);
    expect([...allowed]).toEqual(['gemini-2.0-flash']);
  });

  it('adds an upstream key through the UI and shows it turn unhealthy when its provider fails', async () => {
    await page.getByRole('button', { name: 'Upstream key' }).click();
    const form = page.getByTestId('form-upstream');
    // The choices are the registry's, by display name.
    const options = form.locator('select[name=provider] option');
    await expect.poll(() => options.count(), { timeout: 10_000 }).toBe(providerInfos.length);
    expect(await options.evaluateAll((all) => all.map((o) => [(o as HTMLOptionElement).value, o.textContent]))).toEqual(providerInfos.map((p) => [p.id, p.displayName]));
    await form.locator('select[name=provider]').selectOption('openai');
    await form.locator('input[name=label]').fill('emulated-openai');
    await form.locator('input[name=secret]').fill('sk-emulated-upstream-secret');
    await form.locator('input[name=baseUrl]').fill(emulator.url);
    await form.getByRole('button', { name: 'Add upstream key' }).click();
    await expect.poll(() => form.getByTestId('form-done').textContent(), { timeout: 10_000 }).toContain('emulated-openai');
    const card = page.getByTestId('health-key').filter({ hasText: 'emulated-openai' });
    await card.waitFor({ timeout: 10_000 });
    expect(await card.getAttribute('data-state')).toBe('healthy');
    // Nothing of the secret comes back to the page.
    expect(await page.content()).not.toContain('sk-emulated-upstream-secret');

    const live = await gw.project({ mode: 'live', balance: '5' });
    await gw.gateway.pool.reload();
    const client = gw.client(live.secret);
    for (let i = 0; i < 8; i++) emulator.enqueue({ status: 500, message: 'emulated outage' });
    for (let i = 0; i < 8; i++) {
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `fail ${i}` }] }).catch(() => undefined);
      const state = await card.getAttribute('data-state');
      if (state === 'down') break;
    }
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toMatch(/^(down|degraded)$/);
    expect(await card.textContent()).toContain('Last error');
    await screenshot(page, 'console-1280');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize(PHONE);
    // Waits for the resize to reach the page, then for the layout to settle within it (charts redraw on resize).
    await page.waitForFunction((width) => window.innerWidth === width, PHONE.width);
    await expect.poll(() => horizontalOverflow(page), { timeout: 5_000 }).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-phone');
  });

  it('reconnects the live feed by itself after the socket drops', async () => {
    await page.setViewportSize(DESKTOP);
    // Cut the TCP connection under the open websocket, as a dropped network or a restarted proxy would.
    expect(sockets.size).toBeGreaterThan(0);
    const dropped = [...sockets];
    for (const socket of dropped) socket.destroy();
    await expect.poll(() => page.getByTestId('live-state').textContent(), { timeout: 5_000 }).not.toBe('live');
    // The client reconnects by itself (and subscribes again) on a new socket.
    await expect.poll(() => page.getByTestId('live-state').textContent(), { timeout: 20_000 }).toBe('live');
    expect([...sockets].some((s) => !dropped.includes(s))).toBe(true);
    const before = await page.getByTestId('feed-row').count();
    await gw.client(project.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after reconnect' }] });
    await expect.poll(() => page.getByTestId('feed-row').count(), { timeout: 10_000 }).toBeGreaterThan(before);
  });
});
