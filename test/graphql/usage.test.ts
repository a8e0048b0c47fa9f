// Usage and ledger queries with filters, cursors and time buckets, and the
// live feeds: usage, balance and provider health over graphql-ws and SSE.
import { eq } from 'drizzle-orm';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { collect, graphqlClient, wsClient } from './graphql-client.js';
import { nextSubscriber } from './subscriber-ready.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let upstream: Emulator;
let live: { projectId: string; keyId: string; secret: string; upstreamKeyId: string };
let test: { projectId: string; keyId: string; secret: string };
const requestIds: string[] = [];

beforeAll(async () => {
  upstream = await startOpenAIEmulator();
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
  await gql.ok(`mutation { upsertModel(input: {id: "usage-live", kind: CHAT, ownedBy: "acme", inputPrice: "1", outputPrice: "2", routes: [{provider: "openai", upstreamModel: "gpt-4o-mini"}]}) { id } }`);
  const key = await gql.ok(`mutation($url: String!) { addUpstreamKey(input: {provider: "openai", label: "usage-key", secret: "sk-usage-000001", baseUrl: $url}) { id } }`, { url: upstream.url });
  live = { ...(await gw.project({ mode: 'live', balance: '50' })), upstreamKeyId: key.addUpstreamKey.id };
  test = await gw.project();
  upstream.setScript({ text: 'fine', usage: { input: 100, output: 50 } });
  const ask = async (secret: string, model: string) => {
    const res = await gw.client(secret).chat.completions.create({ model, messages: [{ role: 'user', content: 'usage please' }] }).withResponse();
    requestIds.push(res.response.headers.get('x-request-id')!);
  };
  await ask(test.secret, 'gpt-4o-mini');
  await ask(test.secret, 'gpt-4o-mini');
  await ask(test.secret, 'gemini-2.0-flash');
  await ask(live.secret, 'usage-live');
  await gw.gateway.metering.idle();
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('usage queries', () => {
  it('lists usage records newest first with filters and cursors', async () => {
    const all = await gql.ok(`query($p: ID!) { usageRecords(filter: {projectId: $p}) { nodes { requestId model status test stream provider promptTokens cost } } }`, { p: test.projectId });
    expect(all.usageRecords.nodes.map((n: { requestId: string }) => n.requestId)).toEqual(requestIds.slice(0, 3).reverse());
    expect(all.usageRecords.nodes[0]).toMatchObject({ model: 'gemini-2.0-flash', status: 'OK', test: true, stream: false, provider: 'mock', cost: '0' });

    const first = await gql.ok(`query($p: ID!) { usageRecords(first: 1, filter: {projectId: $p, model: "gpt-4o-mini"}) { nodes { requestId } pageInfo { hasNextPage endCursor } } }`, { p: test.projectId });
    expect(first.usageRecords.nodes).toEqual([{ requestId: requestIds[1] }]);
    const second = await gql.ok(`query($p: ID!, $after: String) { usageRecords(first: 1, after: $after, filter: {projectId: $p, model: "gpt-4o-mini"}) { nodes { requestId } pageInfo { hasNextPage } } }`, {
      p: test.projectId,
      after: first.usageRecords.pageInfo.endCursor,
    });
    expect(second.usageRecords).toEqual({ nodes: [{ requestId: requestIds[0] }], pageInfo: { hasNextPage: false } });

    const liveOnly = await gql.ok(`query($k: ID!) { usageRecords(filter: {upstreamKeyId: $k, test: false, statuses: [OK], provider: "openai"}) { nodes { requestId apiKeyId promptTokens completionTokens cost upstreamModel } } }`, { k: live.upstreamKeyId });
    expect(liveOnly.usageRecords.nodes).toEqual([{ requestId: requestIds[3], apiKeyId: live.keyId, promptTokens: 100, completionTokens: 50, cost: '0.0002', upstreamModel: 'gpt-4o-mini' }]);

    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await gql.ok(`query($from: DateTime) { usageRecords(filter: {from: $from}) { nodes { requestId } } }`, { from: future });
    expect(none.usageRecords.nodes).toEqual([]);
    const backwards = await gql.request(`query($from: DateTime, $to: DateTime) { usageRecords(filter: {from: $from, to: $to}) { nodes { requestId } } }`, { from: future, to: new Date().toISOString() });
    expect(backwards.errors![0]!.message).toMatch(/'from' must be before 'to'/);
  });

  it('sums usage per project and over any filter', async () => {
    const project = await gql.ok(`query($p: ID!) { project(id: $p) { balance usageSummary { requests errors promptTokens completionTokens costTotal } } }`, { p: live.projectId });
    expect(project.project).toEqual({ balance: '49.9998', usageSummary: { requests: 1, errors: 0, promptTokens: 100, completionTokens: 50, costTotal: '0.0002' } });
    const byKey = await gql.ok(`query($k: ID!) { usageSummary(filter: {apiKeyId: $k}) { requests costTotal } }`, { k: test.keyId });
    expect(byKey.usageSummary).toEqual({ requests: 3, costTotal: '0' });
  });

  it('answers per-project fields of a whole list (batched per operation) with each project’s own data', async () => {
    const list = await gql.ok(`{ projects(first: 200) { nodes { id permissions { modelId } apiKeys { id mode } activeKeys: apiKeys(state: ACTIVE) { id }
      usageSummary { requests costTotal } lastHour: usageSummary(from: "${new Date(Date.now() - 3_600_000).toISOString()}") { requests } } } }`);
    const byId = new Map(list.projects.nodes.map((p: { id: string }) => [p.id, p]));
    for (const [project, requests, cost, mode] of [[live, 1, '0.0002', 'LIVE'], [test, 3, '0', 'TEST']] as const) {
      expect(byId.get(project.projectId)).toEqual({
        id: project.projectId,
        permissions: [{ modelId: '*' }],
        apiKeys: [{ id: project.keyId, mode }],
        activeKeys: [{ id: project.keyId }],
        usageSummary: { requests, costTotal: cost },
        lastHour: { requests },
      });
    }
  });

  it('aggregates by minute, hour and day, grouped by model, project, key and upstream key', async () => {
    const byModel = await gql.ok(`query($p: ID!) { usageAggregates(bucket: MINUTE, groupBy: [MODEL], filter: {projectId: $p}) { bucketStart model projectId requests promptTokens } }`, { p: test.projectId });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const rows = byModel.usageAggregates as Array<{ bucketStart: string; model: string; requests: number; projectId: string | null }>;
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(3);
    for (const r of rows) {
      expect(Date.parse(r.bucketStart) % 60_000).toBe(0);
      expect(minute - Date.parse(r.bucketStart)).toBeLessThanOrEqual(5 * 60_000);
      expect(r.projectId).toBeNull();
    }
    const models = new Map<string, number>();
    for (const r of rows) models.set(r.model, (models.get(r.model) ?? 0) + r.requests);
    expect(Object.fromEntries(models)).toEqual({ 'gpt-4o-mini': 2, 'gemini-2.0-flash': 1 });

    const byProjectKey = await gql.ok(`{ usageAggregates(bucket: HOUR, groupBy: [PROJECT, API_KEY]) { projectId apiKeyId requests costTotal } }`);
    const mine = (byProjectKey.usageAggregates as Array<{ projectId: string; apiKeyId: string; requests: number; costTotal: string }>).filter((r) => [test.projectId, live.projectId].includes(r.projectId));
    const hourTotals = new Map<string, { requests: number; cost: string }>();
    for (const r of mine) hourTotals.set(r.apiKeyId, { requests: (hourTotals.get(r.apiKeyId)?.requests ?? 0) + r.requests, cost: r.costTotal });
    expect(hourTotals.get(test.keyId)!.requests).toBe(3);
    expect(hourTotals.get(live.keyId)).toEqual({ requests: 1, cost: '0.0002' });

    const byUpstream = await gql.ok(`query($k: ID!) { usageAggregates(bucket: DAY, groupBy: [UPSTREAM_KEY, PROVIDER], filter: {upstreamKeyId: $k}) { bucketStart upstreamKeyId provider requests completionTokens costTotal } }`, { k: live.upstreamKeyId });
    expect(byUpstream.usageAggregates).toHaveLength(1);
    expect(byUpstream.usageAggregates[0]).toMatchObject({ upstreamKeyId: live.upstreamKeyId, provider: 'openai', requests: 1, completionTokens: 50, costTotal: '0.0002' });
    expect(byUpstream.usageAggregates[0].bucketStart).toMatch(/T00:00:00.000Z$/);

    const overall = await gql.ok(`query($p: ID!) { usageAggregates(groupBy: [MODEL], filter: {projectId: $p}) { bucketStart model requests } }`, { p: test.projectId });
    expect(overall.usageAggregates).toEqual([
      { bucketStart: null, model: 'gpt-4o-mini', requests: 2 },
      { bucketStart: null, model: 'gemini-2.0-flash', requests: 1 },
    ]);
    const tooMany = await gql.request(`{ usageAggregates(bucket: MINUTE, filter: {from: "2020-01-01T00:00:00Z"}) { requests } }`);
    expect(tooMany.errors![0]!.message).toMatch(/more than 2000 minute buckets/);
  });

  it('lists ledger entries with the charge of the live request', async () => {
    const ledger = await gql.ok(`query($p: ID!) { ledgerEntries(filter: {projectId: $p, kinds: [CHARGE]}) { nodes { kind amount requestId } } }`, { p: live.projectId });
    expect(ledger.ledgerEntries.nodes).toEqual([{ kind: 'CHARGE', amount: '-0.0002', requestId: requestIds[3] }]);
  });
});

describe('subscriptions over graphql-ws', () => {
  it('usage(projectId) emits each request of that project as it closes', async () => {
    const client = wsClient(gw.url, { authorization: `Bearer ${gw.adminToken}` });
    const ready = nextSubscriber(gw.gateway.bus, 'usage');
    const feed = collect(client, `subscription($p: ID) { usage(projectId: $p) { requestId projectId model promptTokens completionTokens cost status test } }`, { p: test.projectId });
    await ready;
    // Another project's request first: the filter must skip it.
    await gw.client(live.secret).chat.completions.create({ model: 'usage-live', messages: [{ role: 'user', content: 'other project' }] });
    const res = await gw.client(test.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'watch me' }] }).withResponse();
    // No time bound: the feed is pushed by the settlement's own event, with no poll or heartbeat that could bring it late.
    const event = await feed.next();
    expect(event.data!.usage).toMatchObject({
      requestId: res.response.headers.get('x-request-id'),
      projectId: test.projectId,
      model: 'gpt-4o-mini',
      promptTokens: res.data.usage!.prompt_tokens,
      completionTokens: res.data.usage!.completion_tokens,
      cost: '0',
      status: 'OK',
      test: true,
    });
    // Pushed as the request closed, its settlement following within the batch delay.
    await gw.gateway.metering.idle();
    const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, event.data!.usage.requestId));
    expect(row).toMatchObject({ status: 'ok', projectId: test.projectId, cost: '0.000000000000' });
    await client.dispose();
  });

  it('balance(projectId) sends the balance now, then each change', async () => {
    const client = wsClient(gw.url, { authorization: `Bearer ${gw.adminToken}` });
    const feed = collect(client, `subscription($p: ID!) { balance(projectId: $p) { projectId balance reserved available } }`, { p: live.projectId });
    const now = (await feed.next()).data!.balance;
    // `reserved` may hold this replica's lease on the balance, so only its shape is checked.
    expect(now).toMatchObject({ projectId: live.projectId, reserved: expect.stringMatching(/^\d+(\.\d+)?$/) });
    await gql.ok(`mutation($p: ID!) { creditBalance(projectId: $p, amount: "0.5", reason: "watch") { balance } }`, { p: live.projectId });
    const after = (await feed.next()).data!.balance;
    expect(Number(after.balance) - Number(now.balance)).toBeCloseTo(0.5, 10);
    await client.dispose();

    const missing = collect(wsClient(gw.url, { token: gw.adminToken }), `subscription { balance(projectId: "prj_none") { balance } }`);
    const result = await missing.next().catch((e: unknown) => e);
    expect(JSON.stringify(result)).toMatch(/Project prj_none not found/);
  });

  it('providerHealth sends every key’s state at once, then the change when an upstream starts failing', async () => {
    const client = wsClient(gw.url, { authorization: `Bearer ${gw.adminToken}` });
    const feed = collect(client, `subscription { providerHealth(provider: "openai") { upstreamKeyId provider label state lastError } }`);
    const first = (await feed.next()).data!.providerHealth;
    expect(first).toMatchObject({ upstreamKeyId: live.upstreamKeyId, provider: 'openai', label: 'usage-key', state: 'HEALTHY' });

    upstream.enqueue({ status: 429, retryAfter: 30 });
    const err = await gw.client(live.secret).chat.completions.create({ model: 'usage-live', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBeGreaterThanOrEqual(429);
    const change = (await feed.next()).data!.providerHealth;
    expect(change).toMatchObject({ upstreamKeyId: live.upstreamKeyId, provider: 'openai', state: 'COOLING_DOWN' });
    const now = await gql.ok(`{ upstreamKeys(provider: "openai") { id health { state cooldownUntil } } providers { provider state keys healthyKeys } }`);
    expect(now.upstreamKeys.find((k: { id: string }) => k.id === live.upstreamKeyId).health.state).toBe('COOLING_DOWN');
    expect(now.providers.find((p: { provider: string }) => p.provider === 'openai')).toMatchObject({ state: 'COOLING_DOWN', keys: 1, healthyKeys: 0 });
    // Let the key serve again for the tests after this one.
    await gql.ok(`mutation($id: ID!) { enableUpstreamKey(id: $id) { health { state } } }`, { id: live.upstreamKeyId });
    await client.dispose();
  });
});

describe('subscriptions over SSE', () => {
  it('streams balance events as server-sent events to an operator', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${gw.adminToken}` },
      body: JSON.stringify({ query: `subscription($p: ID!) { balance(projectId: $p) { balance } }`, variables: { p: test.projectId } }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events: unknown[] = [];
    let wake: (() => void) | undefined;
    const parser = createParser({
      onEvent: (e) => {
        if (e.event === 'next' || e.event === undefined) {
          events.push(JSON.parse(e.data));
          wake?.();
        }
      },
    });
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(part, { stream: true }));
    })().catch(() => {});
    const nth = (n: number) =>
      new Promise<void>((resolve) => {
        if (events.length >= n) return resolve();
        wake = () => events.length >= n && resolve();
      });
    await nth(1);
    expect(events[0]).toEqual({ data: { balance: { balance: '10' } } });
    await gql.ok(`mutation($p: ID!) { creditBalance(projectId: $p, amount: "2", reason: "sse") { balance } }`, { p: test.projectId });
    await nth(2);
    expect(events[1]).toEqual({ data: { balance: { balance: '12' } } });
    controller.abort();
    await reading;

    const anonymous = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `subscription { usage { requestId } }` }),
    });
    expect(await anonymous.text()).toMatch(/UNAUTHENTICATED/);
  });
});
