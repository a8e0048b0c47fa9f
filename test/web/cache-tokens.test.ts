// The dashboards show a request's prompt-cache use: the operator console's
// live feed and the project view's recent requests both put "N cached · M
// written" under the prompt tokens.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import { type Emulator, startAnthropicEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { DESKTOP, hasChromium, launchChromium, SKIP_REASON } from './browser.js';

if (!hasChromium) console.warn(SKIP_REASON);

describe.skipIf(!hasChromium)('cache tokens on the dashboards', () => {
  let gw: TestGateway;
  let emulator: Emulator;
  let browser: Browser;
  let context: BrowserContext;
  let project: Awaited<ReturnType<TestGateway['project']>>;

  beforeAll(async () => {
    [gw, emulator, browser] = await Promise.all([startGateway(), startAnthropicEmulator(), launchChromium()]);
    await upsertModel(gw.database.db, { id: 'web-claude', kind: 'chat', ownedBy: 'test', inputPrice: '3', outputPrice: '15', cachedInputPrice: '0.3', routes: [{ provider: 'anthropic', upstreamModel: 'web-claude' }] });
    await addUpstreamKey(gw.database.db, gw.gateway.secrets, gw.gateway.bus, gw.gateway.providers, {
      provider: 'anthropic',
      label: 'web-cache',
      secret: 'sk-ant-web-cache',
      baseUrl: emulator.url,
      priority: 0,
      weight: 1,
      models: ['web-claude'],
    });
    await Promise.all([gw.gateway.catalogue.reload(), gw.gateway.pool.reload()]);
    // The first page request builds the bundle when it is missing.
    await fetch(`${gw.url}/console`);
    project = await gw.project({ mode: 'live', balance: '10' });
    context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(10_000);
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
    await emulator?.close();
  });

  const cachedCall = async () => {
    emulator.setScript({ text: 'ok', usage: { input: 5000, cached: 3000, cacheWrite: 1000, cacheWrite1h: 500, output: 20 } });
    await gw.client(project.secret).chat.completions.create({ model: 'web-claude', max_tokens: 50, messages: [{ role: 'user', content: 'cache '.repeat(5000) }] });
  };

  it('in the console’s live feed', async () => {
    const page = await context.newPage();
    await page.goto(`${gw.url}/console`);
    const form = page.getByTestId('signin-operator');
    await form.locator('input[name=secret]').fill(gw.adminToken);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('live-state').textContent(), { timeout: 10_000 }).toContain('live');
    await cachedCall();
    const line = page.getByTestId('feed-row').first().getByTestId('cache-tokens');
    await expect.poll(() => line.textContent(), { timeout: 10_000 }).toBe('3,000 cached · 1,500 written');
    expect(await line.getAttribute('title')).toBe('prompt cache: 3,000 read, 1,000 written (5 min), 500 written (1 h)');
    await page.close();
  });

  it('in the project view’s recent requests', async () => {
    await cachedCall();
    await gw.gateway.metering.idle();
    const page = await context.newPage();
    await page.goto(`${gw.url}/`);
    const form = page.getByTestId('signin-project');
    await form.locator('input[name=secret]').fill(project.secret);
    await form.getByRole('button', { name: 'Sign in' }).click();
    const line = page.getByTestId('recent').getByTestId('cache-tokens').first();
    await expect.poll(() => line.textContent(), { timeout: 10_000 }).toBe('3,000 cached · 1,500 written');
    await page.close();
  });
});
