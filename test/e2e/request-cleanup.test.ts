import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

// Every request arms a deadline timer that holds the request until it fires;
// a finished request must leave none behind (a missed clear once kept each
// answered request alive for ten minutes: +55 MB a minute under load).
let gw: TestGateway;
let upstream: Emulator;
beforeAll(async () => {
  [gw, upstream] = await Promise.all([startGateway(), startOpenAIEmulator()]);
  await liveModel(gw, { id: 'cleanup-chat', upstreamModel: 'gpt-4o-mini', keys: [{ baseUrl: upstream.url }] });
  await liveModel(gw, { id: 'cleanup-embed', kind: 'embedding', upstreamModel: 'text-embedding-3-small', keys: [{ baseUrl: upstream.url }] });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const ROUNDS = 30;

describe('a finished request leaves no timer behind', () => {
  it.each([
    ['non-stream chat', (key: string) => gw.client(key).chat.completions.create({ model: 'cleanup-chat', messages: [{ role: 'user', content: 'hi' }] })],
    ['stream', async (key: string) => {
      for await (const _ of await gw.client(key).chat.completions.create({ model: 'cleanup-chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    }],
    ['embeddings', (key: string) => gw.client(key).embeddings.create({ model: 'cleanup-embed', input: 'hi' })],
    ['a failed upstream call', async (key: string) => {
      upstream.enqueue({ status: 400 });
      await gw.client(key).chat.completions.create({ model: 'cleanup-chat', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
    }],
  ])('%s', async (_name, call) => {
    const { secret } = await gw.project({ mode: 'live', balance: '100' });
    await call(secret);
    await gw.gateway.metering.idle();
    const before = timers();
    for (let i = 0; i < ROUNDS; i++) await call(secret);
    await gw.gateway.metering.idle();
    // Long-lived timers (keep-alive sockets, background passes) may come and go; one per request may not.
    expect(timers() - before).toBeLessThan(ROUNDS / 3);
  });
});
