import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ledgerEntries, projects, upstreamKeys, usageRecords } from '../../src/db/schema.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { abortAfterContent } from '../helpers/abort-stream.js';
import { liveModel } from '../helpers/live-routes.js';
import { useTwoUpstreams } from '../helpers/use-upstreams.js';

const up = useTwoUpstreams(startOpenAIEmulator);
let n = 0;

/** A fresh model over keys A (tried first) and B, and a live key allowed to use it. */
async function setup(options: { fallbacks?: string[]; onlyA?: boolean } = {}) {
  const id = `emu-${++n}`;
  const keyIds = await liveModel(up.gw, { id, upstreamModel: id, keys: options.onlyA ? [{ baseUrl: up.a.url }] : [{ baseUrl: up.a.url }, { baseUrl: up.b.url }], ...(options.fallbacks ? { fallbacks: options.fallbacks } : {}) });
  const project = await up.gw.project({ mode: 'live', balance: '10' });
  return { model: id, keyIds, ...project, client: up.gw.client(project.secret) };
}

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello upstream' }] });

describe('live requests through the upstream pool', () => {
  it('answers from the upstream, charges the exact cost and writes the ledger', async () => {
    up.a.setScript({ text: 'Hi from A', usage: { input: 10, output: 5 } });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), temperature: 0.3 }).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('Hi from A');
    expect(res.data.model).toBe(s.model);
    expect(res.data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });
    expect(res.response.headers.get('x-gateway-route')).toBe(`openai/${s.model}`);
    expect(res.response.headers.get('x-gateway-attempts')).toBe('1');
    expect(up.a.requests[0]!.body).toMatchObject({ model: s.model, temperature: 0.3, messages: [{ role: 'user', content: 'Hello upstream' }] });
    expect(up.a.requests[0]!.headers.authorization).toBe(`Bearer sk-test-${s.model}-0`);

    await up.gw.gateway.metering.idle();
    const requestId = res.response.headers.get('x-request-id')!;
    const [usage] = await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
    // 10 × 1/1M + 5 × 2/1M = 0.00002
    expect(usage).toMatchObject({ status: 'ok', test: false, provider: 'openai', upstreamKeyId: s.keyIds[0], cost: '0.000020000000', inputPrice: '1.000000', outputPrice: '2.000000' });
    const [project] = await up.gw.database.db.select().from(projects).where(eq(projects.id, s.projectId));
    expect(project!.balance).toBe('9.999980000000');
    const [charge] = await up.gw.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.requestId, requestId));
    expect(charge).toMatchObject({ kind: 'charge', amount: '-0.000020000000', balanceAfter: '9.999980000000' });
  });

  it('bills a stream from the upstream usage and forwards the usage chunk when asked', async () => {
    up.a.setScript({ text: 'one two three four', usage: { input: 7, output: 4 }, chunks: 4 });
    const s = await setup();
    const stream = await s.client.chat.completions.create({ ...hello(s.model), stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three four');
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4 });
    expect(up.a.requests[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  it('fails over to the next key on a 500 and the client sees one clean answer', async () => {
    up.a.enqueue({ status: 500 });
    up.b.setScript({ text: 'from B' });
    const s = await setup();
    const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('from B');
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    expect(up.a.requests).toHaveLength(1);
  });

  it('fails over on a connect error, a timeout-like hang being cut by the deadline aside', async () => {
    const s = await setup();
    await up.gw.database.db.update(upstreamKeys).set({ baseUrl: 'http://127.0.0.1:9/v1' }).where(eq(upstreamKeys.id, s.keyIds[0]!));
    await up.gw.gateway.pool.reload();
    up.b.setScript({ text: 'B answered' });
    const res = await s.client.chat.completions.create(hello(s.model));
    expect(res.choices[0]!.message.content).toBe('B answered');
  });

  it('disables a key the upstream rejects with 401 and stops using it', async () => {
    up.a.enqueue({ status: 401 });
    const s = await setup();
    await s.client.chat.completions.create(hello(s.model));
    await expect.poll(async () => (await up.gw.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, s.keyIds[0]!)))[0]!.status).toBe('disabled');
    await up.gw.gateway.pool.reload();
    await s.client.chat.completions.create(hello(s.model));
    expect(up.a.requests).toHaveLength(1);
    expect(up.gw.gateway.health.snapshot(s.keyIds[0]!, 'openai').state).toBe('disabled');
  });

  it('cools a key down on 429, honouring retry-after', async () => {
    up.a.enqueue({ status: 429, retryAfter: 30 });
    const s = await setup();
    await s.client.chat.completions.create(hello(s.model));
    await s.client.chat.completions.create(hello(s.model));
    expect(up.a.requests).toHaveLength(1);
    expect(up.b.requests).toHaveLength(2);
    const health = up.gw.gateway.health.snapshot(s.keyIds[0]!, 'openai');
    expect(health.state).toBe('cooling_down');
    expect(Date.parse(health.cooldownUntil!) - Date.now()).toBeGreaterThan(20_000);
  });

  it('does not retry once a byte was sent: the client gets an error event, the usage so far is billed', async () => {
    up.a.setScript({ text: 'alpha beta gamma delta epsilon', chunks: 5 });
    up.a.enqueue({ cutAfterEvents: 3 });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
    const received: string[] = [];
    const err = await (async () => {
      for await (const chunk of res.data) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(received.join('')).not.toBe('');
    expect(up.b.requests).toHaveLength(0);
    await up.gw.gateway.metering.idle();
    const [usage] = await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, res.response.headers.get('x-request-id')!));
    expect(usage!.status).toBe('error');
    expect(usage!.completionTokens).toBeGreaterThan(0);
    expect(Number(usage!.cost)).toBeGreaterThan(0);
  });

  it('answers 503 when every key fails, after a bounded number of attempts', async () => {
    up.a.setDefault({ status: 503 });
    up.b.setDefault({ status: 500 });
    const s = await setup();
    const err = await s.client.chat.completions.create(hello(s.model)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'service_unavailable' });
    expect(JSON.stringify((err as InstanceType<typeof OpenAI.APIError>).error)).not.toContain('sk-test');
  });

  it("moves to the model's fallback when all of its keys fail", async () => {
    const fallback = await setup({ onlyA: true });
    const primary = `emu-${++n}`;
    await liveModel(up.gw, { id: primary, upstreamModel: primary, keys: [{ baseUrl: up.b.url }], fallbacks: [fallback.model] });
    up.b.setDefault({ status: 500 });
    up.a.setScript({ text: 'fallback answer' });
    const res = await fallback.client.chat.completions.create(hello(primary)).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('fallback answer');
    expect(res.data.model).toBe(primary);
    expect(res.response.headers.get('x-gateway-model')).toBe(fallback.model);
  });

  it('respects the request timeout and aborts the upstream call', async () => {
    up.a.setDefault({ hang: true });
    up.b.setDefault({ hang: true });
    const s = await setup();
    const err = await s.client.chat.completions.create({ ...hello(s.model), timeout: 0.3 } as never).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    await up.a.waitForAborts(1);
  });

  it('records a client that leaves before the answer as aborted (499), not as a gateway failure', async () => {
    up.a.setDefault({ hang: true });
    const s = await setup({ onlyA: true });
    const controller = new AbortController();
    const call = s.client.chat.completions.create(hello(s.model), { signal: controller.signal, maxRetries: 0 }).catch((e: unknown) => e);
    await up.a.waitForRequests(1);
    controller.abort();
    await call;
    await up.a.waitForAborts(1);
    const row = async () => (await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, s.projectId)))[0];
    await expect.poll(async () => (await row())?.status).toBe('aborted');
    expect(await row()).toMatchObject({ httpStatus: 499, errorCode: 'client_closed_request', completionTokens: 0 });
    // The client leaving says nothing about the key either.
    expect(up.gw.gateway.health.snapshot(s.keyIds[0]!, 'openai')).toMatchObject({ state: 'healthy', inFlight: 0, lastError: null });
  });

  it('passes a client abort mid-stream to the upstream and bills what was produced', async () => {
    up.a.setScript({ text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10', chunks: 10 });
    up.a.setDefault({ eventDelayMs: 100 });
    const s = await setup();
    const controller = new AbortController();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }, { signal: controller.signal }).withResponse();
    const requestId = res.response.headers.get('x-request-id')!;
    await abortAfterContent(res.data, controller, 2);
    await up.a.waitForAborts(1);
    await expect
      .poll(async () => (await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId)))[0]!.status)
      .toBe('aborted');
    const [usage] = await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
    expect(usage!.completionTokens).toBeGreaterThan(0);
    expect(usage!.completionTokens).toBeLessThan(10);
  });
});
