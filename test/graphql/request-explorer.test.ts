// The request explorer over GraphQL: a request that failed over, one refused
// for its balance and one the client left mid-stream, each with its
// attempts and phases; the filters and pages of `requests`; the project's
// capture settings (validated, audited) and who may read a payload.
import type OpenAI from 'openai';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import type { EventBus, UsageEvent } from '../../src/core/events/event-bus.js';
import { startOpenAIEmulator, type Emulator } from '../emulators/index.js';
import { abortAfterContent } from '../helpers/abort-stream.js';
import { liveModel } from '../helpers/live-routes.js';
import type { TestGateway } from '../helpers/start-gateway.js';
import type { graphqlClient } from './graphql-client.js';
import { startWithViewer } from './start-with-viewer.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let viewerToken: string;
let a: Emulator;
let b: Emulator;
let keyIds: string[];
let project: { projectId: string; keyId: string; secret: string };
const ids = { failover: '', refused: '', aborted: '' };

const closed = (bus: EventBus, requestId: string) =>
  new Promise<UsageEvent>((resolve) => {
    const off = bus.subscribe('usage', (e) => {
      if (e.requestId !== requestId) return;
      off();
      resolve(e);
    });
  });

const requestIdOf = (err: unknown): string => {
  const headers = (err as { headers?: Headers | Record<string, string> }).headers;
  return (headers instanceof Headers ? headers.get('x-request-id') : headers?.['x-request-id']) ?? '';
};

const DETAIL = `query($id: ID!) { request(id: $id) {
  id projectId apiKeyId door model status httpStatus errorCode stream test traceId createdAt settledAt cost reservedCost
  project { id name }
  attempts { number provider model upstreamModel upstreamKeyId upstreamKeyLabel outcome upstreamStatus errorMessage durationMs startedAt inferred }
  phases { admissionMs reservationWaitMs ttfbMs latencyMs totalMs }
  tokens { input cached cacheWrite5m cacheWrite1h output reasoning }
  prices { input output cachedInput cacheWrite5m cacheWrite1h }
} }`;

beforeAll(async () => {
  [{ gw, gql, viewerToken }, a, b] = await Promise.all([startWithViewer('explorer-viewer'), startOpenAIEmulator(), startOpenAIEmulator()]);
  keyIds = await liveModel(gw, { id: 'explore-model', keys: [{ baseUrl: a.url, label: 'key-a' }, { baseUrl: b.url, label: 'key-b' }] });
  project = await gw.project({ mode: 'live', balance: '10' });
  const client = gw.client(project.secret);

  // 1. Key A answers 500, key B answers: two attempts.
  a.enqueue({ status: 500, message: 'upstream A is down' });
  b.setScript({ text: 'from B', usage: { input: 12, output: 3 } });
  const failover = await client.chat.completions.create({ model: 'explore-model', max_tokens: 50, messages: [{ role: 'user', content: 'fail over please' }] }).withResponse();
  ids.failover = failover.response.headers.get('x-request-id')!;

  // 2. A project whose balance cannot cover the reservation: 402 before any upstream call.
  const poor = await gw.project({ mode: 'live', balance: '0.000001' });
  const refused = await gw.client(poor.secret).chat.completions.create({ model: 'explore-model', max_tokens: 500, messages: [{ role: 'user', content: 'too dear' }] }).catch((e: unknown) => e);
  expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
  ids.refused = requestIdOf(refused);

  // 3. A stream the client leaves after its second chunk.
  a.setScript({ text: 'one two three four five six seven eight', chunks: 8 });
  a.setDefault({ eventDelayMs: 40 });
  const controller = new AbortController();
  const opened = await client.chat.completions.create({ model: 'explore-model', stream: true, messages: [{ role: 'user', content: 'stream then leave' }] }, { signal: controller.signal }).withResponse();
  ids.aborted = opened.response.headers.get('x-request-id')!;
  const abortClosed = closed(gw.gateway.bus, ids.aborted);
  await abortAfterContent(opened.data, controller, 2);
  await abortClosed;
  a.setDefault(undefined);
  await gw.gateway.metering.idle();
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await a?.close();
  await b?.close();
});

describe('request(id)', () => {
  it('shows a failed-over request as two attempts, the first with its upstream error, with phases, tokens, prices and cost', async () => {
    const { request } = await gql.ok(DETAIL, { id: ids.failover });
    expect(request).toMatchObject({
      id: ids.failover,
      projectId: project.projectId,
      apiKeyId: project.keyId,
      project: { id: project.projectId },
      door: 'CHAT',
      model: 'explore-model',
      status: 'OK',
      httpStatus: 200,
      errorCode: null,
      stream: false,
      test: false,
      tokens: { input: 12, cached: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 3, reasoning: 0 },
      prices: { input: '1', output: '2', cachedInput: '0.5' },
      // 12 × 1/1M + 3 × 2/1M
      cost: '0.000018',
    });
    expect(request.settledAt).not.toBeNull();
    expect(request.attempts).toHaveLength(2);
    expect(request.attempts[0]).toMatchObject({
      number: 1,
      provider: 'openai',
      model: 'explore-model',
      upstreamKeyId: keyIds[0],
      upstreamKeyLabel: 'key-a',
      outcome: 'SERVER_ERROR',
      upstreamStatus: 500,
      inferred: false,
    });
    expect(request.attempts[0].errorMessage).toMatch(/upstream A is down/);
    expect(request.attempts[1]).toMatchObject({ number: 2, upstreamKeyId: keyIds[1], upstreamKeyLabel: 'key-b', outcome: 'OK', errorMessage: null, inferred: false });
    for (const attempt of request.attempts) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(attempt.startedAt)).toBeGreaterThan(0);
    }
    expect(Date.parse(request.attempts[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(request.attempts[0].startedAt));
    const p = request.phases;
    expect(p.admissionMs).toBeGreaterThanOrEqual(0);
    expect(p.reservationWaitMs).toBeGreaterThanOrEqual(0);
    expect(p.latencyMs).toBeGreaterThanOrEqual(0);
    // A JSON answer's first byte is the whole answer.
    expect(p.ttfbMs).toBe(p.latencyMs);
    expect(p.totalMs).toBe(p.admissionMs + p.latencyMs);
  });

  it('shows a request refused for its balance: 402, no attempts, no timings', async () => {
    const { request } = await gql.ok(DETAIL, { id: ids.refused });
    expect(request).toMatchObject({ status: 'REJECTED', httpStatus: 402, errorCode: 'insufficient_quota', model: 'explore-model', cost: '0', attempts: [] });
    expect(request.phases).toEqual({ admissionMs: null, reservationWaitMs: null, ttfbMs: null, latencyMs: null, totalMs: null });
  });

  it('shows a stream the client left: aborted, 499, its one attempt and its time to first token', async () => {
    const { request } = await gql.ok(DETAIL, { id: ids.aborted });
    expect(request).toMatchObject({ status: 'ABORTED', httpStatus: 499, errorCode: 'client_closed', stream: true });
    expect(request.attempts).toEqual([
      expect.objectContaining({ number: 1, upstreamKeyId: keyIds[0], upstreamKeyLabel: 'key-a', outcome: 'OK', inferred: true, startedAt: null }),
    ]);
    expect(request.phases.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(request.phases.latencyMs).toBeGreaterThanOrEqual(request.phases.ttfbMs);
    // Charged for what was produced before it left.
    expect(Number(request.tokens.output)).toBeGreaterThan(0);
  });

  it('is null for an unknown id', async () => {
    expect(await gql.ok(`{ request(id: "req_nothing") { id } }`)).toEqual({ request: null });
  });
});

describe('requests(filter)', () => {
  const LIST = `query($f: RequestFilter, $first: Int, $after: String) { requests(filter: $f, first: $first, after: $after) {
    nodes { id status attempts { outcome } } pageInfo { hasNextPage endCursor } } }`;

  it('filters by project, status, door, model and duration, newest first', async () => {
    const all = await gql.ok(LIST, { f: { projectId: project.projectId } });
    expect(all.requests.nodes.map((n: { id: string }) => n.id)).toEqual([ids.aborted, ids.failover]);
    const aborted = await gql.ok(LIST, { f: { projectId: project.projectId, status: ['ABORTED'] } });
    expect(aborted.requests.nodes).toEqual([{ id: ids.aborted, status: 'ABORTED', attempts: [{ outcome: 'OK' }] }]);
    const refused = await gql.ok(LIST, { f: { model: 'explore-model', status: ['REJECTED'], door: 'CHAT' } });
    expect(refused.requests.nodes.map((n: { id: string }) => n.id)).toEqual([ids.refused]);
    expect((await gql.ok(LIST, { f: { projectId: project.projectId, door: 'EMBEDDINGS' } })).requests.nodes).toEqual([]);
    expect((await gql.ok(LIST, { f: { projectId: project.projectId, minDurationMs: 3_600_000 } })).requests.nodes).toEqual([]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await gql.ok(LIST, { f: { projectId: project.projectId, from: future } })).requests.nodes).toEqual([]);
  });

  it('pages with cursors', async () => {
    const first = await gql.ok(LIST, { f: { projectId: project.projectId }, first: 1 });
    expect(first.requests.nodes.map((n: { id: string }) => n.id)).toEqual([ids.aborted]);
    expect(first.requests.pageInfo.hasNextPage).toBe(true);
    const second = await gql.ok(LIST, { f: { projectId: project.projectId }, first: 1, after: first.requests.pageInfo.endCursor });
    expect(second.requests.nodes.map((n: { id: string }) => n.id)).toEqual([ids.failover]);
    expect(second.requests.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a negative duration and a page too large for the cost limit', async () => {
    const negative = await gql.request(LIST, { f: { minDurationMs: -1 } });
    expect(negative.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(negative.errors![0]!.message).toMatch(/minDurationMs/);
    // Each payload is decompressed: a page of them is priced so (1000 each).
    const heavy = await gql.request(`{ requests(first: 60) { nodes { id payload { request } } } }`);
    expect(heavy.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    await gql.ok(`{ requests(first: 200) { nodes { id attempts { number outcome } phases { totalMs } } } }`);
  });

  it('is read by viewer tokens too', async () => {
    const viewed = await gql.ok(LIST, { f: { projectId: project.projectId } }, { token: viewerToken });
    expect(viewed.requests.nodes).toHaveLength(2);
  });
});

describe('payload capture settings', () => {
  const UPDATE = `mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { id capturePayloads redactPatterns } }`;

  it('are off by default, and turning them on is an audited operator change', async () => {
    const fresh = await gw.project();
    expect((await gql.ok(`query($id: ID!) { project(id: $id) { capturePayloads redactPatterns } }`, { id: fresh.projectId })).project).toEqual({ capturePayloads: false, redactPatterns: [] });
    const updated = await gql.ok(UPDATE, { id: fresh.projectId, input: { capturePayloads: true, redactPatterns: ['[\\w.+-]+@[\\w-]+\\.[\\w.]+'] } });
    expect(updated.updateProject).toEqual({ id: fresh.projectId, capturePayloads: true, redactPatterns: ['[\\w.+-]+@[\\w-]+\\.[\\w.]+'] });
    const audit = await gql.ok(`{ auditLog(filter: {action: "updateProject"}) { nodes { targetId before after } } }`);
    const entry = audit.auditLog.nodes.find((n: { targetId: string }) => n.targetId === fresh.projectId);
    expect(entry.before).toMatchObject({ capturePayloads: false });
    expect(entry.after).toMatchObject({ capturePayloads: true, redactPatterns: ['[\\w.+-]+@[\\w-]+\\.[\\w.]+'] });
  });

  it('refuse an invalid or catastrophic pattern, naming it, and change nothing', async () => {
    const target = await gw.project();
    const invalid = await gql.request(UPDATE, { id: target.projectId, input: { capturePayloads: true, redactPatterns: ['ok', 'broken(['] } });
    expect(invalid.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(invalid.errors![0]!.message).toMatch(/redactPatterns\[1\] "broken\(\[" is not a valid regular expression/);
    const nested = await gql.request(UPDATE, { id: target.projectId, input: { redactPatterns: ['(a+)+$'] } });
    expect(nested.errors![0]!.message).toMatch(/redactPatterns\[0\] "\(a\+\)\+\$" is refused: .*nested quantifiers/);
    const tooMany = await gql.request(UPDATE, { id: target.projectId, input: { redactPatterns: Array.from({ length: 21 }, (_, i) => `p${i}`) } });
    expect(tooMany.errors![0]!.message).toMatch(/At most 20 redact patterns/);
    const viewer = await gql.request(UPDATE, { id: target.projectId, input: { capturePayloads: true } }, { token: viewerToken });
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql.ok(`query($id: ID!) { project(id: $id) { capturePayloads redactPatterns } }`, { id: target.projectId })).project).toEqual({ capturePayloads: false, redactPatterns: [] });
  });
});

describe('payload', () => {
  it('is shown to admin tokens and refused to viewers with FORBIDDEN, the rest of the request still answered', async () => {
    const captured = await gw.project({ mode: 'test' });
    await gql.ok(`mutation($id: ID!) { updateProject(id: $id, input: {capturePayloads: true, redactPatterns: ["[\\\\w.+-]+@[\\\\w-]+\\\\.[\\\\w.]+"]}) { id } }`, { id: captured.projectId });
    const res = await gw.client(captured.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mail me at carol@example.org' }] }).withResponse();
    const id = res.response.headers.get('x-request-id')!;
    await gw.gateway.metering.idle();
    await gw.gateway.payloads.idle();
    const PAYLOAD = `query($id: ID!) { request(id: $id) { id status payload { request response capturedAt } } }`;
    const admin = await gql.ok(PAYLOAD, { id });
    expect(admin.request.payload.request).toContain('mail me at [REDACTED]');
    expect(admin.request.payload.request).not.toContain('carol@example.org');
    // The test-mode mock echoes the prompt: the answer is redacted too.
    expect(admin.request.payload.response).toContain('[REDACTED]');
    expect(admin.request.payload.response).not.toContain('carol@');
    const viewed = await gql.request(PAYLOAD, { id }, { token: viewerToken });
    expect(viewed.data?.request).toEqual({ id, status: 'OK', payload: null });
    expect(viewed.errors?.[0]).toMatchObject({ path: ['request', 'payload'], extensions: { code: 'FORBIDDEN' } });
    expect(viewed.errors![0]!.message).toMatch(/admin tokens only/);
    // Not captured: null, not an error.
    expect((await gql.ok(PAYLOAD, { id: ids.failover })).request.payload).toBeNull();
  });
});
