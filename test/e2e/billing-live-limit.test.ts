// A pk_live_ key with a spend limit, spent to the last cent end to end
// through the official client, on PGlite and on Postgres. The amounts are
// worked out by hand below, never with the product's own functions, so a
// wrong formula cannot agree with itself.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

// The request every test sends: "Spend me" with max_tokens 10, on a model at
// 1 per 1M input tokens and 2 per 1M output tokens (live-routes.ts).
//   prompt: 9 tokens as the gateway counts them (o200k, the text and the chat
//   format's per-message overhead), reserved with 25 % and 16 tokens of margin:
//   ceil(9 × 1.25) + 16 = ceil(11.25) + 16 = 12 + 16 = 28 tokens
//   output: max_tokens = 10
//   reservation: 28 × 0.000001 + 10 × 0.000002 = 0.000028 + 0.00002 = 0.000048
// The emulator reports exactly those tokens as used, so each answer costs its
// whole reservation, 0.000048, and a limit of three of them is 0.000144.
const MESSAGES = [{ role: 'user' as const, content: 'Spend me' }];
const MAX_TOKENS = 10;
const LIMIT = '0.000144';

let gw: TestGateway;
let upstream: Emulator;
beforeAll(async () => {
  [gw, upstream] = await Promise.all([startGateway(), startOpenAIEmulator()]);
  await liveModel(gw, { id: 'limit-model', upstreamModel: 'limit-model', keys: [{ baseUrl: upstream.url }] });
  upstream.setScript({ text: 'spent', usage: { input: 28, output: 10 } });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const call = (client: OpenAI) => client.chat.completions.create({ model: 'limit-model', messages: MESSAGES, max_tokens: MAX_TOKENS });

async function balanceOf(keyId: string, secret: string) {
  const res = await fetch(`${gw.url}/api/balance/${keyId}`, { headers: { authorization: `Bearer ${secret}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { balance: string; reserved: string; key: { mode: string; spent: string; spend_limit: string; remaining_limit: string } };
}

describe('a spend-limited live key', () => {
  it('serves exactly what its limit covers, one after another, then 402 insufficient_quota', async () => {
    const { secret, keyId } = await gw.project({ mode: 'live', balance: '10', spendLimit: LIMIT });
    const client = gw.client(secret);
    for (let i = 0; i < 3; i++) {
      const answer = await call(client);
      expect(answer.usage).toMatchObject({ prompt_tokens: 28, completion_tokens: 10 });
    }
    const refused = await call(client).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((refused as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'insufficient_quota', code: 402 });
    // The 402 never reached the upstream: three calls only.
    expect(upstream.requests.filter((r) => r.body?.model === 'limit-model')).toHaveLength(3);

    await gw.gateway.metering.idle();
    const balance = await balanceOf(keyId, secret);
    // 3 × 0.000048 = 0.000144 spent = the limit; 10 − 0.000144 = 9.999856 left.
    expect(balance.key).toMatchObject({ mode: 'live', spent: '0.000144', spend_limit: '0.000144', remaining_limit: '0' });
    expect(balance).toMatchObject({ balance: '9.999856', reserved: '0' });
  });

  it('lets exactly three of ten simultaneous calls through', async () => {
    upstream.reset();
    upstream.setScript({ text: 'spent', usage: { input: 28, output: 10 } });
    upstream.setDefault({ latencyMs: 50 });
    const { secret, keyId } = await gw.project({ mode: 'live', balance: '10', spendLimit: LIMIT });
    const client = gw.client(secret);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => call(client)));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as InstanceType<typeof OpenAI.APIError>] : []));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(refused.map((e) => [e.status, (e.error as { type?: string }).type])).toEqual(Array.from({ length: 7 }, () => [402, 'insufficient_quota']));

    await gw.gateway.metering.idle();
    const balance = await balanceOf(keyId, secret);
    expect(balance.key).toMatchObject({ spent: '0.000144', spend_limit: '0.000144', remaining_limit: '0' });
    expect(balance).toMatchObject({ balance: '9.999856', reserved: '0' });
  });
});
