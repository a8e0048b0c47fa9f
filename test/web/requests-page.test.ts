// The console's Requests page in Chromium: a request that failed over, one
// refused for its balance and one the client left mid-stream, filtered and
// opened, each with its timeline and attempts; a captured payload shown
// redacted to an admin token and withheld from a viewer's.
import type OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateProjectAction } from '../../src/core/projects/project-actions.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { abortAfterContent } from '../helpers/abort-stream.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { DESKTOP, hasChromium, launchChromium, screenshot, SKIP_REASON } from './browser.js';

if (!hasChromium) console.warn(SKIP_REASON);

describe.skipIf(!hasChromium)('the console’s Requests page in Chromium', () => {
  let gw: TestGateway;
  let a: Emulator;
  let b: Emulator;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let project: { projectId: string; keyId: string; secret: string };
  let poor: { projectId: string; keyId: string; secret: string };
  let viewerToken: string;
  const ids = { failover: '', refused: '', aborted: '' };

  beforeAll(async () => {
    [gw, a, b, browser] = await Promise.all([startGateway(), startOpenAIEmulator(), startOpenAIEmulator(), launchChromium()]);
    // The first page request builds the bundle when it is missing.
    await fetch(`${gw.url}/console`);
    const gql = graphqlClient(gw.url, gw.adminToken);
    viewerToken = (await gql.ok(`mutation { createAdminToken(name: "requests-viewer", role: VIEWER) { secret } }`)).createAdminToken.secret;
    await liveModel(gw, { id: 'page-model', keys: [{ baseUrl: a.url, label: 'primary-key' }, { baseUrl: b.url, label: 'backup-key' }] });
    project = await gw.project({ mode: 'live', balance: '10' });
    await updateProjectAction(gw.gateway, 'test', { id: project.projectId, name: 'explorer-shop', capturePayloads: true, redactPatterns: ['[\\w.+-]+@[\\w-]+\\.[\\w.]+'] });
    const client = gw.client(project.secret);

    a.enqueue({ status: 500, message: 'primary is having a bad day' });
    b.setScript({ text: 'answered by the backup', usage: { input: 9, output: 4 } });
    const failover = await client.chat.completions.create({ model: 'page-model', max_tokens: 50, messages: [{ role: 'user', content: 'reach me at hana@example.com' }] }).withResponse();
    ids.failover = failover.response.headers.get('x-request-id')!;

    poor = await gw.project({ mode: 'live', balance: '0.000001' });
    await updateProjectAction(gw.gateway, 'test', { id: poor.projectId, name: 'explorer-poor' });
    const refused = (await gw.client(poor.secret).chat.completions.create({ model: 'page-model', max_tokens: 500, messages: [{ role: 'user', content: 'too dear' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused.status).toBe(402);
    ids.refused = (refused.headers as Headers).get('x-request-id')!;

    a.setScript({ text: 'one two three four five six seven eight', chunks: 8 });
    a.setDefault({ eventDelayMs: 40 });
    const controller = new AbortController();
    const opened = await client.chat.completions.create({ model: 'page-model', stream: true, messages: [{ role: 'user', content: 'stream then leave' }] }, { signal: controller.signal }).withResponse();
    ids.aborted = opened.response.headers.get('x-request-id')!;
    const closed = new Promise<void>((resolve) => {
      const off = gw.gateway.bus.subscribe('usage', (e) => {
        if (e.requestId !== ids.aborted) return;
        off();
        resolve();
      });
    });
    await abortAfterContent(opened.data, controller, 2);
    await closed;
    a.setDefault(undefined);
    await gw.gateway.metering.idle();
    await gw.gateway.payloads.idle();
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
    await a?.close();
    await b?.close();
  });

  async function signIn(token: string): Promise<Page> {
    await context?.close();
    context = await browser.newContext({ viewport: DESKTOP });
    context.setDefaultTimeout(10_000);
    const p = await context.newPage();
    await p.goto(`${gw.url}/console`);
    const form = p.getByTestId('signin-operator');
    await form.locator('input[name=secret]').fill(token);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('nav-requests').click();
    await p.getByTestId('requests-page').waitFor();
    return p;
  }

  const row = (id: string) => page.locator(`[data-testid="request-row"][data-request-id="${id}"]`);

  it('lists the requests and filters them by project and status', async () => {
    page = await signIn(gw.adminToken);
    expect(page.url()).toMatch(/#requests$/);
    await row(ids.failover).waitFor();
    await row(ids.refused).waitFor();
    await row(ids.aborted).waitFor();

    await page.getByTestId('filter-project').selectOption({ label: 'explorer-shop' });
    await page.getByTestId('filter-apply').click();
    await expect.poll(() => page.getByTestId('request-row').count()).toBe(2);
    expect(await row(ids.refused).count()).toBe(0);

    await page.getByTestId('filter-status').selectOption('ABORTED');
    await page.getByTestId('filter-apply').click();
    await expect.poll(() => page.getByTestId('request-row').count()).toBe(1);
    expect(await row(ids.aborted).count()).toBe(1);

    await page.getByTestId('filter-project').selectOption('');
    await page.getByTestId('filter-status').selectOption('');
    await page.getByTestId('filter-min-duration').fill('3600000');
    await page.getByTestId('filter-apply').click();
    await page.getByTestId('requests-empty').waitFor();
    await page.getByTestId('filter-min-duration').fill('');
    await page.getByTestId('filter-apply').click();
    await row(ids.failover).waitFor();
  });

  it('opens the failed-over request: its timeline, two attempts with the first one’s error, its cost and redacted payload', async () => {
    await row(ids.failover).click();
    const detail = page.getByTestId('request-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('detail-id').textContent()).toBe(ids.failover);
    expect(await detail.getByTestId('detail-status').textContent()).toBe('ok');
    const attempts = detail.getByTestId('attempt-row');
    await expect.poll(() => attempts.count()).toBe(2);
    expect(await attempts.nth(0).getAttribute('data-outcome')).toBe('SERVER_ERROR');
    expect(await attempts.nth(0).textContent()).toContain('primary-key');
    expect(await attempts.nth(0).getByTestId('attempt-error').textContent()).toContain('primary is having a bad day');
    expect(await attempts.nth(1).getAttribute('data-outcome')).toBe('OK');
    expect(await attempts.nth(1).textContent()).toContain('backup-key');
    // Four phases drawn; admission, reservation wait and total are known here.
    expect(await detail.getByTestId('phase').count()).toBe(4);
    for (const phase of ['admissionMs', 'reservationWaitMs', 'ttfbMs', 'totalMs']) {
      expect(await detail.locator(`[data-phase="${phase}"] [data-testid="phase-value"]`).textContent(), phase).toMatch(/\d+(\.\d+)? (ms|s)/);
    }
    // 9 × 1/1M + 4 × 2/1M
    expect(await detail.getByTestId('detail-cost').textContent()).toBe('$0.000017');
    expect(await detail.getByTestId('detail-trace').textContent()).toBeTruthy();
    const prompt = await detail.getByTestId('payload-request').textContent();
    expect(prompt).toContain('reach me at [REDACTED]');
    expect(prompt).not.toContain('hana@example.com');
    expect(await detail.getByTestId('payload-response').textContent()).toContain('answered by the backup');
    await screenshot(page, 'console-request-failover');
  });

  it('opens the request refused for its balance: 402, no attempts, no payload', async () => {
    await row(ids.refused).click();
    const detail = page.getByTestId('request-detail');
    await expect.poll(() => detail.getByTestId('detail-id').textContent()).toBe(ids.refused);
    expect(await detail.getByTestId('detail-status').textContent()).toBe('rejected');
    expect(await detail.getByTestId('detail-http').textContent()).toBe('HTTP 402');
    await detail.getByTestId('no-attempts').waitFor();
    expect(await detail.locator('[data-phase="totalMs"] [data-testid="phase-value"]').textContent()).toBe('not known');
    await detail.getByTestId('payload-none').waitFor();
  });

  it('opens the stream the client left: aborted, 499, one attempt', async () => {
    await row(ids.aborted).click();
    const detail = page.getByTestId('request-detail');
    await expect.poll(() => detail.getByTestId('detail-id').textContent()).toBe(ids.aborted);
    expect(await detail.getByTestId('detail-status').textContent()).toBe('aborted');
    expect(await detail.getByTestId('detail-http').textContent()).toBe('HTTP 499');
    await expect.poll(() => detail.getByTestId('attempt-row').count()).toBe(1);
    expect(await detail.locator('[data-phase="ttfbMs"] [data-testid="phase-value"]').textContent()).toMatch(/\d+(\.\d+)? (ms|s)/);
    await screenshot(page, 'console-request-aborted');
  });

  it('withholds the payload from a viewer token', async () => {
    page = await signIn(viewerToken);
    await row(ids.failover).click();
    const detail = page.getByTestId('request-detail');
    await expect.poll(() => detail.getByTestId('attempt-row').count()).toBe(2);
    await detail.getByTestId('payload-forbidden').waitFor();
    expect(await detail.getByTestId('payload-request').count()).toBe(0);
  });
});
