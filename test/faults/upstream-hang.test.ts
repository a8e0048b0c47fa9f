// An upstream that accepts the connection and never answers. The gateway's
// own upstream timeouts (UPSTREAM_HEADERS_TIMEOUT_SECONDS,
// UPSTREAM_BODY_TIMEOUT_SECONDS) end the call, count it against the key and
// fail over; a client's own short `timeout` ends the request with 408 and
// says nothing about the key (one client must not open the circuit for all).
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { ledgerEntries, projects, usageRecords } from '../../src/db/schema.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { liveModel } from '../helpers/live-routes.js';
import { useTwoUpstreams } from '../helpers/use-upstreams.js';

// The time is the feature here: a hang is cut after this, the rest of the
// request still has its (10 min) deadline to fail over in.
const UPSTREAM_TIMEOUT_SECONDS = 1;

const up = useTwoUpstreams(startOpenAIEmulator, {
  env: { UPSTREAM_HEADERS_TIMEOUT_SECONDS: String(UPSTREAM_TIMEOUT_SECONDS), UPSTREAM_BODY_TIMEOUT_SECONDS: String(UPSTREAM_TIMEOUT_SECONDS) },
});
let gql: ReturnType<typeof graphqlClient>;
let n = 0;
beforeAll(() => {
  gql = graphqlClient(up.gw.url, up.gw.adminToken);
});

/** A fresh model over keys A (tried first) and B, and a live key with a balance of 10 allowed to use it. */
async function setup() {
  const id = `hang-${++n}`;
  const [keyA, keyB] = await liveModel(up.gw, { id, upstreamModel: id, keys: [{ baseUrl: up.a.url }, { baseUrl: up.b.url }] });
  const project = await up.gw.project({ mode: 'live', balance: '10' });
  return { model: id, keyA: keyA!, keyB: keyB!, ...project, client: up.gw.client(project.secret) };
}

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello upstream' }] });

/** A key's health as an operator reads it on /graphql. */
async function keyHealth(keyId: string) {
  const { providerHealth } = await gql.ok<{ providerHealth: Array<Record<string, unknown>> }>(
    `{ providerHealth(provider: "openai") { upstreamKeyId state consecutiveFailures successRate requests inFlight lastError circuitOpenUntil } }`,
  );
  return providerHealth.find((k) => k.upstreamKeyId === keyId);
}

describe('an upstream that accepts the connection and never answers', () => {
  it('is cut after the upstream timeout, counted against its key, and the request fails over and is charged once', async () => {
    up.a.setDefault({ hang: true });
    up.b.setScript({ text: 'B answered', usage: { input: 10, output: 5 } });
    const s = await setup();
    const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('B answered');
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    // The gateway closed its connection to A, not A or the test.
    await up.a.waitForAborts(1);
    expect(up.a.requests).toHaveLength(1);
    expect(up.b.requests).toHaveLength(1);

    await up.gw.gateway.metering.idle();
    const requestId = res.response.headers.get('x-request-id')!;
    const [usage] = await up.gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
    // 10 × 1/1M + 5 × 2/1M = 0.00002, from B's usage only.
    expect(usage).toMatchObject({ status: 'ok', upstreamKeyId: s.keyB, cost: '0.000020000000' });
    const charges = await up.gw.database.db
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.projectId, s.projectId), eq(ledgerEntries.kind, 'charge')));
    expect(charges.map((c) => c.amount)).toEqual(['-0.000020000000']);
    const [project] = await up.gw.database.db.select().from(projects).where(eq(projects.id, s.projectId));
    expect(project!.balance).toBe('9.999980000000');

    // One failure: counted, the circuit still closed (it opens at five in a row).
    expect(await keyHealth(s.keyA)).toMatchObject({
      state: 'HEALTHY',
      consecutiveFailures: 1,
      successRate: 0,
      requests: 1,
      inFlight: 0,
      lastError: 'openai timed out (UND_ERR_HEADERS_TIMEOUT)',
      circuitOpenUntil: null,
    });
    expect(await keyHealth(s.keyB)).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, successRate: 1, lastError: null });
  });

  it('a stream whose upstream sends its headers and then nothing is cut by the body timeout and fails over', async () => {
    up.a.setDefault({ firstByteDelayMs: 600_000 });
    up.b.setScript({ text: 'one two three', chunks: 3, usage: { input: 7, output: 3 } });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of res.data) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3 });
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    await up.a.waitForAborts(1);
    expect(await keyHealth(s.keyA)).toMatchObject({ consecutiveFailures: 1, inFlight: 0, lastError: 'openai timed out (UND_ERR_BODY_TIMEOUT)' });
  });

  it('five hangs in a row open the key’s circuit: DOWN until a half-open probe', async () => {
    up.a.setDefault({ hang: true });
    const s = await setup();
    // At once: none of them can find A's circuit open before all five have been sent to it.
    const answers = await Promise.all(Array.from({ length: 5 }, () => s.client.chat.completions.create(hello(s.model))));
    expect(answers.map((r) => r.choices[0]!.message.content)).toEqual(Array(5).fill('Hello from the openai emulator.'));
    expect(up.a.requests).toHaveLength(5);
    const health = await keyHealth(s.keyA);
    expect(health).toMatchObject({ state: 'DOWN', consecutiveFailures: 5, requests: 5, inFlight: 0, lastError: 'openai timed out (UND_ERR_HEADERS_TIMEOUT)' });
    expect(health!.circuitOpenUntil).not.toBeNull();
  });

  it('a client’s own short timeout on a hanging upstream gives 408 and leaves the key unmarked', async () => {
    up.a.setDefault({ hang: true });
    const s = await setup();
    const err = await s.client.chat.completions.create({ ...hello(s.model), timeout: 0.1 } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    await up.a.waitForAborts(1);
    expect(up.b.requests).toHaveLength(0);
    expect(await keyHealth(s.keyA)).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, requests: 0, inFlight: 0, lastError: null });
  });

  it('fails over only while the request’s deadline allows: the first hang is the key’s failure, the one the deadline ends is not', async () => {
    up.a.setDefault({ hang: true });
    up.b.setDefault({ hang: true });
    const s = await setup();
    // A is cut at 1 s and marked; B gets the rest, and the client's 1.8 s ends the request before B's own 1 s runs out.
    const err = await s.client.chat.completions.create({ ...hello(s.model), timeout: 1.8 } as never).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
    await Promise.all([up.a.waitForAborts(1), up.b.waitForAborts(1)]);
    expect(await keyHealth(s.keyA)).toMatchObject({ consecutiveFailures: 1, inFlight: 0, lastError: 'openai timed out (UND_ERR_HEADERS_TIMEOUT)' });
    expect(await keyHealth(s.keyB)).toMatchObject({ state: 'HEALTHY', consecutiveFailures: 0, requests: 0, inFlight: 0, lastError: null });
  });
});
