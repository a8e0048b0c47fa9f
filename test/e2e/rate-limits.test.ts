import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('per-key rate limits', () => {
  it('sends x-ratelimit headers and refuses the request over the RPM with 429 and Retry-After', async () => {
    const { secret } = await gw.project({ rpmLimit: 2 });
    const client = gw.client(secret);
    const first = await client.chat.completions.create(ask).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(ms|s|m\d+s)$/);
    await client.chat.completions.create(ask);
    const err = await client.chat.completions.create(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(Number(apiError.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(apiError.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(apiError.error).toMatchObject({ type: 'rate_limit_error', code: 429 });
  });

  it('counts tokens per minute as well', async () => {
    const { secret } = await gw.project({ tpmLimit: 40 });
    const client = gw.client(secret);
    const ok = await client.chat.completions.create({ ...ask, max_tokens: 10 }).withResponse();
    expect(ok.response.headers.get('x-ratelimit-limit-tokens')).toBe('40');
    const err = await client.chat.completions.create({ ...ask, max_tokens: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('leaves keys without limits unlimited and without headers', async () => {
    const { secret } = await gw.project();
    const res = await gw.client(secret).chat.completions.create(ask).withResponse();
    expect(res.response.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });
});
