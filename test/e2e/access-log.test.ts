// The access log: exactly one info line per request, metered or not (a
// failover, a stream, embeddings, a 402, a validation error, a 401, an
// unknown route, a body that does not parse), with who, what and how it
// ended, and never a key, a token or a body. At LOG_LEVEL=warn there are none.
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/create-logger.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { useTwoUpstreams } from '../helpers/use-upstreams.js';

const written: string[] = [];
const logger = createLogger(
  'info',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  }),
);
afterAll(() => logger.flush());

const up = useTwoUpstreams(startOpenAIEmulator, { logger });

type Line = Record<string, unknown> & { msg: string; requestId?: string };
const accessLines = (): Line[] => written.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'access');
const linesOf = (requestId: string) => accessLines().filter((l) => l.requestId === requestId);

const PROMPT = 'a prompt that must never reach the log';
const ANSWER = 'an answer that must never reach the log';
const UPSTREAM_SECRET = 'sk-access-log-upstream-0123456789';

describe('access log', () => {
  it('writes one line per request with its fields and no secret or body', async () => {
    const keyIds = await liveModel(up.gw, { id: 'log-chat', upstreamModel: 'log-chat', keys: [{ baseUrl: up.a.url, secret: UPSTREAM_SECRET }, { baseUrl: up.b.url }] });
    const live = await up.gw.project({ mode: 'live', balance: '10' });
    const broke = await up.gw.project({ mode: 'live', balance: '0' });
    const test = await up.gw.project({ mode: 'test' });
    const body = { model: 'log-chat', messages: [{ role: 'user' as const, content: PROMPT }] };
    const post = (path: string, headers: Record<string, string>, payload: string) =>
      fetch(`${up.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
    const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

    up.a.enqueue({ status: 500 });
    up.b.setScript({ text: ANSWER, usage: { input: 11, output: 6, cached: 3, reasoning: 2 } });
    const failedOver = await post('/v1/chat/completions', bearer(live.secret), JSON.stringify(body));
    expect(failedOver.status).toBe(200);
    up.a.setScript({ text: ANSWER, usage: { input: 5, output: 4 }, chunks: 2 });
    const streamed = await post('/v1/chat/completions', bearer(live.secret), JSON.stringify({ ...body, stream: true }));
    expect(await streamed.text()).toContain('[DONE]');
    const embedded = await post('/v1/embeddings', bearer(test.secret), JSON.stringify({ model: 'text-embedding-3-small', input: PROMPT }));
    const viaQuery = await post(`/v1/chat/completions?api_key=${test.secret}`, {}, JSON.stringify({ ...body, model: 'gpt-4o-mini' }));
    const refused = await post('/v1/chat/completions', bearer(broke.secret), JSON.stringify(body));
    const invalid = await post('/v1/chat/completions', bearer(live.secret), JSON.stringify({ model: 'log-chat', messages: PROMPT }));
    const noKey = await post('/v1/chat/completions', bearer('pk_live_not-a-key-0123456789abcdef'), JSON.stringify(body));
    const unknownRoute = await fetch(`${up.gw.url}/v1/no-such-route?api_key=${live.secret}`);
    const unparsable = await post('/v1/chat/completions', bearer(live.secret), `{"messages": "${PROMPT}"`);
    expect([embedded.status, viaQuery.status, refused.status, invalid.status, noKey.status, unknownRoute.status, unparsable.status]).toEqual([200, 200, 402, 400, 401, 404, 400]);
    await up.gw.gateway.metering.idle();

    const all = [failedOver, streamed, embedded, viaQuery, refused, invalid, noKey, unknownRoute, unparsable];
    const ids = all.map((r) => r.headers.get('x-request-id')!);
    // HTTP-only lines are written once the response has been sent: wait for the last of them.
    await expect.poll(() => ids.map((id) => linesOf(id).length)).toEqual(ids.map(() => 1));

    const [json, stream, embedding, query, balance, validation, unauthenticated, notFound, parse] = ids.map((id) => linesOf(id)[0]!);
    expect(json).toMatchObject({
      level: 30,
      requestId: ids[0],
      traceId: null,
      projectId: live.projectId,
      apiKeyId: live.keyId,
      door: 'chat',
      model: 'log-chat',
      mode: 'live',
      stream: false,
      provider: 'openai',
      upstreamModel: 'log-chat',
      upstreamKeyId: keyIds[1],
      attempts: 2,
      attemptOutcomes: ['server_error', 'ok'],
      status: 'ok',
      httpStatus: 200,
      errorCode: null,
      tokens: { input: 11, cached: 3, cacheWrite: 0, cacheWrite1h: 0, output: 6, reasoning: 2 },
      // 8 uncached × 1/1M + 3 cached × 0.5/1M + 6 × 2/1M
      cost: '0.0000215',
    });
    for (const field of ['admissionMs', 'ttfbMs', 'durationMs']) expect(json![field], field).toEqual(expect.any(Number));
    expect(stream).toMatchObject({ stream: true, attempts: 1, status: 'ok', tokens: { input: 5, output: 4 } });
    expect(stream).not.toHaveProperty('attemptOutcomes');
    expect(stream!.ttfbMs as number).toBeLessThanOrEqual(stream!.durationMs as number);
    expect(embedding).toMatchObject({ door: 'embeddings', mode: 'test', provider: 'mock', status: 'ok', cost: '0' });
    expect(query).toMatchObject({ door: 'chat', model: 'gpt-4o-mini', apiKeyId: test.keyId, status: 'ok' });
    expect(balance).toMatchObject({ status: 'rejected', httpStatus: 402, errorCode: 'insufficient_quota', attempts: 0, provider: null });
    expect(validation).toMatchObject({ status: 'rejected', httpStatus: 400, errorCode: 'invalid_request_error' });
    expect(unauthenticated).toEqual({ level: 30, time: expect.any(Number), pid: expect.any(Number), hostname: expect.any(String), msg: 'access', requestId: ids[6], method: 'POST', path: '/v1/chat/completions', httpStatus: 401, durationMs: expect.any(Number) });
    expect(notFound).toMatchObject({ method: 'GET', path: '/v1/no-such-route', httpStatus: 404 });
    expect(parse).toMatchObject({ path: '/v1/chat/completions', httpStatus: 400 });
    expect(parse).not.toHaveProperty('door');

    const text = written.join('\n');
    for (const secret of [live.secret, test.secret, broke.secret, UPSTREAM_SECRET, up.gw.adminToken, PROMPT, ANSWER]) {
      expect(text, `the log holds ${secret.slice(0, 12)}…`).not.toContain(secret);
    }
  });

  it('writes none at LOG_LEVEL=warn', async () => {
    logger.level = 'warn';
    try {
      const test = await up.gw.project({ mode: 'test' });
      const res = await up.gw.client(test.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      const missing = await fetch(`${up.gw.url}/v1/nothing-here`);
      await up.gw.gateway.metering.idle();
      expect(missing.status).toBe(404);
      expect(linesOf(res.response.headers.get('x-request-id')!)).toEqual([]);
      expect(linesOf(missing.headers.get('x-request-id')!)).toEqual([]);
    } finally {
      logger.level = 'info';
    }
  });
});
