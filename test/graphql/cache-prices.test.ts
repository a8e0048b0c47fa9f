// Cache prices through the GraphQL admin API: a model's cache-write prices
// (as set, and the effective ones with their defaults), setting and
// clearing them (audited), the refusal of a default that would need more than
// 6 decimals, and a usage record's cache tokens with the prices in force.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startAnthropicEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let upstream: Emulator;

beforeAll(async () => {
  [gw, upstream] = await Promise.all([startGateway(), startAnthropicEmulator()]);
  gql = graphqlClient(gw.url, gw.adminToken);
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const UPSERT = `mutation($input: UpsertModelInput!) { upsertModel(input: $input) { id ${'cachedInputPrice cacheWritePrice cacheWrite1hPrice effectiveCacheWritePrice effectiveCacheWrite1hPrice'} } }`;
const route = [{ provider: 'anthropic', upstreamModel: 'claude-cache' }];
const base = { id: 'gql-cache', kind: 'CHAT', ownedBy: 'anthropic', inputPrice: '3', outputPrice: '15', cachedInputPrice: '0.3', routes: route };

describe('cache-write prices', () => {
  it('default to 1.25 × and 2 × input, can be set and cleared, and every change is audited', async () => {
    const unset = await gql.ok(UPSERT, { input: base });
    expect(unset.upsertModel).toEqual({
      id: 'gql-cache',
      cachedInputPrice: '0.3',
      cacheWritePrice: null,
      cacheWrite1hPrice: null,
      effectiveCacheWritePrice: '3.75',
      effectiveCacheWrite1hPrice: '6',
    });

    const set = await gql.ok(UPSERT, { input: { ...base, cacheWritePrice: '3.5', cacheWrite1hPrice: '5.000001' } });
    expect(set.upsertModel).toMatchObject({ cacheWritePrice: '3.5', cacheWrite1hPrice: '5.000001', effectiveCacheWritePrice: '3.5', effectiveCacheWrite1hPrice: '5.000001' });

    const cleared = await gql.ok(UPSERT, { input: { ...base, cacheWritePrice: null } });
    expect(cleared.upsertModel).toMatchObject({ cacheWritePrice: null, cacheWrite1hPrice: null, effectiveCacheWritePrice: '3.75', effectiveCacheWrite1hPrice: '6' });

    const { auditLog } = await gql.ok(`{ auditLog(first: 10, filter: {targetId: "gql-cache"}) { nodes { action before after } } }`);
    const writes = auditLog.nodes.map((n: { before: any; after: any }) => [n.before?.model.cacheWritePrice ?? null, n.after.model.cacheWritePrice]);
    // Newest first: cleared, set, created.
    expect(writes).toHaveLength(3);
    expect(writes.map(([before, after]: [string | null, string | null]) => [before && Number(before), after && Number(after)])).toEqual([
      [3.5, null],
      [null, 3.5],
      [null, null],
    ]);
    expect(Number(auditLog.nodes[1].after.model.cacheWrite1hPrice)).toBe(5.000001);
  });

  it('refuses an unset write price whose 1.25 × input would need more than 6 decimals, naming the fix', async () => {
    const refused = await gql.request(UPSERT, { input: { ...base, id: 'gql-cache-odd', inputPrice: '0.123457' } });
    expect(refused.errors?.[0]?.message).toMatch(/cacheWritePrice.*0\.15432125 has more than 6 decimals; set the cache-write price explicitly/);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await gql.ok(`{ model(id: "gql-cache-odd") { id } }`)).model).toBeNull();

    const explicit = await gql.ok(UPSERT, { input: { ...base, id: 'gql-cache-odd', inputPrice: '0.123457', cacheWritePrice: '0.154322' } });
    expect(explicit.upsertModel).toMatchObject({ effectiveCacheWritePrice: '0.154322', effectiveCacheWrite1hPrice: '0.246914' });
  });

  it('of an embedding model are its input price (no prompt cache)', async () => {
    const { upsertModel } = await gql.ok(UPSERT, { input: { id: 'gql-cache-embed', kind: 'EMBEDDING', ownedBy: 'x', inputPrice: '0.123457', outputPrice: '0', dimensions: 8, routes: [{ provider: 'openai', upstreamModel: 'e' }] } });
    expect(upsertModel).toMatchObject({ effectiveCacheWritePrice: '0.123457', effectiveCacheWrite1hPrice: '0.123457' });
  });
});

describe('a usage record', () => {
  it('shows its cache reads and writes and every price in force', async () => {
    await gql.ok(UPSERT, { input: { ...base, id: 'gql-cache-usage', cacheWritePrice: null } });
    await gql.ok(`mutation($input: AddUpstreamKeyInput!) { addUpstreamKey(input: $input) { id } }`, {
      input: { provider: 'anthropic', label: 'cache-usage', secret: 'sk-ant-cache-0001', baseUrl: upstream.url, priority: 0, weight: 1 },
    });
    const { createProject } = await gql.ok(`mutation { createProject(input: {name: "cache", initialBalance: "10", models: ["*"]}) { id } }`);
    const { createApiKey } = await gql.ok(`mutation($p: ID!) { createApiKey(input: {projectId: $p, mode: LIVE}) { secret } }`, { p: createProject.id });
    upstream.setScript({ text: 'ok', usage: { input: 40, cached: 10, cacheWrite: 20, cacheWrite1h: 5, output: 2 } });
    const { response } = await gw
      .client(createApiKey.secret)
      .chat.completions.create({ model: 'gql-cache-usage', max_tokens: 10, messages: [{ role: 'user', content: 'cache '.repeat(60) }] })
      .withResponse();
    await gw.gateway.metering.idle();
    const { usageRecord } = await gql.ok(
      `query($id: ID!) { usageRecord(requestId: $id) { promptTokens cachedTokens cacheWriteTokens cacheWrite1hTokens completionTokens
         inputPrice cachedInputPrice cacheWritePrice cacheWrite1hPrice outputPrice cost } }`,
      { id: response.headers.get('x-request-id') },
    );
    // 5 × 3 + 10 × 0.3 + 20 × 3.75 + 5 × 6 + 2 × 15 = 15 + 3 + 75 + 30 + 30 = 153 millionths.
    expect(usageRecord).toEqual({
      promptTokens: 40,
      cachedTokens: 10,
      cacheWriteTokens: 20,
      cacheWrite1hTokens: 5,
      completionTokens: 2,
      inputPrice: '3',
      cachedInputPrice: '0.3',
      cacheWritePrice: '3.75',
      cacheWrite1hPrice: '6',
      outputPrice: '15',
      cost: '0.000153',
    });
    // The project's totals carry the cache reads and both kinds of write.
    const { project } = await gql.ok(`query($p: ID!) { project(id: $p) { usageSummary { promptTokens cachedTokens cacheWriteTokens cacheWrite1hTokens costTotal } } }`, { p: createProject.id });
    expect(project.usageSummary).toEqual({ promptTokens: 40, cachedTokens: 10, cacheWriteTokens: 20, cacheWrite1hTokens: 5, costTotal: '0.000153' });
  });
});
