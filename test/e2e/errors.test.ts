import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let secret: string;
beforeAll(async () => {
  gw = await startGateway({ env: { BODY_LIMIT_BYTES: String(64 * 1024) } });
  ({ secret } = await gw.project());
});
afterAll(async () => gw?.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers }, body });

/** Our error body is OpenAI's except that `code` carries the HTTP status, as the seed's does. */
function expectErrorBody(body: unknown, status: number, type: string) {
  expect(body).toMatchObject({ error: { type, code: status, message: expect.any(String) } });
  const asOpenAI = { error: { ...(body as { error: object }).error, code: String(status) } };
  expect(openapiErrors('ErrorResponse', asOpenAI)).toEqual([]);
}

describe('errors in the OpenAI shape', () => {
  it('400 for malformed JSON', async () => {
    const res = await post('{"model": ');
    expect(res.status).toBe(400);
    expectErrorBody(await res.json(), 400, 'invalid_request_error');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('400 naming the field for a wrong type or a missing field', async () => {
    const wrong = await post(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }));
    expect(wrong.status).toBe(400);
    const body = (await wrong.json()) as { error: { message: string; param: string } };
    expect(body.error.param).toBe('temperature');
    expect(body.error.message).toContain('temperature');
    const missing = await post(JSON.stringify({ model: 'gpt-4o-mini' }));
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/messages/);
    const err = await gw
      .client(secret)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], top_p: 7 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('404 in the same shape for an unknown route and an unknown model', async () => {
    const route = await fetch(`${gw.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${secret}` } });
    expect(route.status).toBe(404);
    expectErrorBody(await route.json(), 404, 'not_found_error');
    const err = await gw.client(secret).chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('403 for a model the project may not use, with a usage record of the refusal', async () => {
    const limited = await gw.project({ models: ['deepseek-chat'] });
    const res = await gw
      .client(limited.secret)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })
      .withResponse()
      .catch((e: unknown) => e);
    expect(res).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const requestId = (res as InstanceType<typeof OpenAI.APIError>).headers?.get('x-request-id');
    const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId!));
    expect(row).toMatchObject({ status: 'rejected', httpStatus: 403, modelId: 'gpt-4o-mini' });
  });

  it('413 for a body over the limit', async () => {
    const res = await post(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }));
    expect(res.status).toBe(413);
    expectErrorBody(await res.json(), 413, 'invalid_request_error');
  });

  it('400 when an embedding model is used for chat', async () => {
    const err = await gw.client(secret).chat.completions.create({ model: 'text-embedding-004', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('test-mode error triggers (X-Mock-Scenario)', () => {
  const cases = [
    ['error-400', 400, OpenAI.BadRequestError, 'invalid_request_error'],
    ['error-401', 401, OpenAI.AuthenticationError, 'authentication_error'],
    ['error-402', 402, OpenAI.APIError, 'insufficient_quota'],
    ['error-403', 403, OpenAI.PermissionDeniedError, 'permission_error'],
    ['error-429', 429, OpenAI.RateLimitError, 'rate_limit_error'],
    ['error-500', 500, OpenAI.InternalServerError, 'api_error'],
    ['error-503', 503, OpenAI.InternalServerError, 'service_unavailable'],
  ] as const;

  for (const [scenario, status, errorClass, type] of cases) {
    it(`${scenario} reaches the client as ${status} ${type}`, async () => {
      const err = await gw
        .client(secret)
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'X-Mock-Scenario': scenario } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(errorClass);
      const apiError = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(status);
      expect(apiError.error).toMatchObject({ type, code: status });
      if (status === 429) expect(apiError.headers?.get('retry-after')).toBe('1');
    });
  }

  it('timeout ends the request with 408 timeout_error after the request timeout', async () => {
    const started = Date.now();
    const err = await gw
      .client(secret)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], timeout: 0.2 } as never, { headers: { 'X-Mock-Scenario': 'timeout' } })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'timeout_error' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stream-break sends some chunks, then an error the client raises', async () => {
    const stream = await gw
      .client(secret)
      .chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a long enough message to split' }] }, { headers: { 'X-Mock-Scenario': 'stream-break' } });
    const received: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/stream break/);
  });
});
