// The model catalogue and the upstream key pool through the GraphQL admin
// API: prices and routes reach the hot path at once, upstream secrets are
// write-only everywhere (results, audit, every database column).
import { sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let upstream: Emulator;

beforeAll(async () => {
  upstream = await startOpenAIEmulator();
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const UPSERT = `mutation($input: UpsertModelInput!) { upsertModel(input: $input) { id kind ownedBy inputPrice outputPrice cachedInputPrice fallbacks enabled routes { provider upstreamModel priority weight } } }`;
const ADD_KEY = `mutation($input: AddUpstreamKeyInput!) { addUpstreamKey(input: $input) { id label provider secretLast4 baseUrl status health { state } } }`;

async function liveProject(models: string[] = ['*']) {
  const { createProject } = await gql.ok(`mutation($m: [String!]) { createProject(input: {name: "live", initialBalance: "100", models: $m}) { id } }`, { m: models });
  const { createApiKey } = await gql.ok(`mutation($p: ID!) { createApiKey(input: {projectId: $p, mode: LIVE}) { secret } }`, { p: createProject.id });
  return { projectId: createProject.id as string, secret: createApiKey.secret as string };
}

describe('models', () => {
  it('upserts a model with the SPEC’s input, and its prices are charged on the very next request', async () => {
    const created = await gql.ok(
      `mutation { upsertModel(input: {id: "gql-mini", kind: CHAT, ownedBy: "openai", inputPrice: "0.15", outputPrice: "0.6",
         routes: [{provider: "openai", upstreamModel: "gpt-4o-mini"}]}) { id } }`,
    );
    expect(created.upsertModel).toEqual({ id: 'gql-mini' });
    await gql.ok(ADD_KEY, { input: { provider: 'openai', label: 'models-key', secret: 'sk-models-0001', baseUrl: upstream.url, weight: 1, priority: 0 } });
    const { secret } = await liveProject();
    const client = gw.client(secret);
    upstream.setScript({ text: 'ok', usage: { input: 1_000_000, output: 1_000_000 } });

    const first = await client.chat.completions.create({ model: 'gql-mini', messages: [{ role: 'user', content: 'price me' }], max_tokens: 2_000_000 }).withResponse();
    await gql.ok(UPSERT, {
      input: { id: 'gql-mini', kind: 'CHAT', ownedBy: 'openai', inputPrice: '1', outputPrice: '2.000001', cachedInputPrice: '0.5', routes: [{ provider: 'openai', upstreamModel: 'gpt-4o-mini' }] },
    });
    const second = await client.chat.completions.create({ model: 'gql-mini', messages: [{ role: 'user', content: 'price me' }], max_tokens: 2_000_000 }).withResponse();
    await gw.gateway.metering.idle();
    const costs = await gql.ok(`query($a: ID!, $b: ID!) { a: usageRecord(requestId: $a) { cost inputPrice outputPrice } b: usageRecord(requestId: $b) { cost inputPrice outputPrice } }`, {
      a: first.response.headers.get('x-request-id'),
      b: second.response.headers.get('x-request-id'),
    });
    expect(costs.a).toEqual({ cost: '0.75', inputPrice: '0.15', outputPrice: '0.6' });
    expect(costs.b).toEqual({ cost: '3.000001', inputPrice: '1', outputPrice: '2.000001' });

    const model = await gql.ok(`{ model(id: "gql-mini") { id inputPrice outputPrice cachedInputPrice routes { provider upstreamModel priority weight } capabilities { tools } } }`);
    expect(model.model).toEqual({
      id: 'gql-mini',
      inputPrice: '1',
      outputPrice: '2.000001',
      cachedInputPrice: '0.5',
      routes: [{ provider: 'openai', upstreamModel: 'gpt-4o-mini', priority: 0, weight: 1 }],
      capabilities: { tools: false },
    });
  });

  it('replaces routes and fallbacks whole, and refuses invalid models with the field named, changing nothing', async () => {
    const input = {
      id: 'gql-embed',
      kind: 'EMBEDDING',
      ownedBy: 'acme',
      inputPrice: '0.02',
      outputPrice: '0',
      dimensions: 8,
      routes: [
        { provider: 'openai', upstreamModel: 'text-embedding-3-small' },
        { provider: 'openai-compatible', upstreamModel: 'embed-x', weight: 3 },
      ],
    };
    const created = await gql.ok(UPSERT, { input });
    expect(created.upsertModel.routes).toEqual([
      { provider: 'openai', upstreamModel: 'text-embedding-3-small', priority: 0, weight: 1 },
      { provider: 'openai-compatible', upstreamModel: 'embed-x', priority: 1, weight: 3 },
    ]);
    const bad: Array<[Record<string, unknown>, RegExp, string]> = [
      [{ routes: [] }, /a model needs at least one route/, 'routes'],
      [{ routes: [{ provider: 'azure', upstreamModel: 'x' }] }, /must be one of openai, anthropic/, 'routes.0.provider'],
      [{ inputPrice: '0.0000001' }, /at most 6 decimals/, 'inputPrice'],
      [{ outputPrice: '-1' }, /must not be negative/, 'outputPrice'],
      [{ fallbacks: ['no-such-model'] }, /unknown model 'no-such-model'/, 'fallbacks'],
      [{ fallbacks: ['gql-embed'] }, /cannot fall back to itself/, 'fallbacks'],
      [{ id: 'bad id!' }, /'id': must be 1-128 letters/, 'id'],
    ];
    for (const [patch, message, field] of bad) {
      const res = await gql.request(UPSERT, { input: { ...input, ...patch } });
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const after = await gql.ok(`{ model(id: "gql-embed") { inputPrice outputPrice fallbacks routes { upstreamModel } } }`);
    expect(after.model).toEqual({ inputPrice: '0.02', outputPrice: '0', fallbacks: [], routes: [{ upstreamModel: 'text-embedding-3-small' }, { upstreamModel: 'embed-x' }] });
    expect(await gql.ok(`{ model(id: "bad id!") { id } }`)).toEqual({ model: null });
  });

  it('deletes a model (not while another falls back to it): /v1/models drops it at once', async () => {
    const base = { kind: 'CHAT', ownedBy: 'acme', inputPrice: '1', outputPrice: '1', routes: [{ provider: 'openai', upstreamModel: 'gpt-4o-mini' }] };
    await gql.ok(UPSERT, { input: { ...base, id: 'gql-doomed' } });
    await gql.ok(UPSERT, { input: { ...base, id: 'gql-leaning', fallbacks: ['gql-doomed'] } });
    const project = await gw.project();
    const client = gw.client(project.secret);
    expect((await client.models.list()).data.map((m) => m.id)).toContain('gql-doomed');

    const refused = await gql.request(`mutation { deleteModel(id: "gql-doomed") }`);
    expect(refused.errors![0]!.message).toMatch(/is a fallback of gql-leaning/);
    await gql.ok(UPSERT, { input: { ...base, id: 'gql-leaning', fallbacks: [] } });
    expect(await gql.ok(`mutation { deleteModel(id: "gql-doomed") }`)).toEqual({ deleteModel: 'gql-doomed' });
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain('gql-doomed');
    const err = await client.chat.completions.create({ model: 'gql-doomed', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const audit = await gql.ok(`{ auditLog(filter: {targetId: "gql-doomed"}) { nodes { action before after } } }`);
    expect(audit.auditLog.nodes[0]).toMatchObject({ action: 'deleteModel', after: null, before: { model: { id: 'gql-doomed' } } });
  });
});

describe('upstream keys', () => {
  it('keeps the secret write-only: encrypted at rest, only its last 4 in any result, never in any table in plain text', async () => {
    const secret = `sk-live-${'Zq9'.repeat(12)}WXYZ`;
    const added = await gql.ok(ADD_KEY, { input: { provider: 'openai', label: 'k1', secret, baseUrl: upstream.url, weight: 1, priority: 0 } });
    expect(added.addUpstreamKey).toMatchObject({ label: 'k1', provider: 'openai', secretLast4: 'WXYZ', status: 'ACTIVE', health: { state: 'HEALTHY' } });
    const id = added.addUpstreamKey.id as string;

    const everything = await gql.ok(
      `query($id: ID!) { upstreamKeys { id label provider secretLast4 baseUrl weight priority rpmLimit tpmLimit models status disabledReason health { state lastError } }
         upstreamKey(id: $id) { secretLast4 } auditLog(first: 200) { nodes { before after } } providerHealth { upstreamKeyId lastError } }`,
      { id },
    );
    const text = JSON.stringify(everything);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(0, 20));
    const audit = everything.auditLog.nodes.find((n: { after: { id?: string } | null }) => n.after?.id === id);
    expect(audit.after.secretCiphertext).toBe('[redacted]');

    // No column of any table holds the secret (or a long piece of it) in plain text.
    const tables = rowsOf<{ tablename: string }>(await gw.database.db.execute(sql`select tablename from pg_tables where schemaname = 'public'`));
    expect(tables.length).toBeGreaterThan(5);
    for (const { tablename } of tables) {
      const rows = rowsOf<Record<string, unknown>>(await gw.database.db.execute(sql.raw(`select * from "${tablename}"`)));
      const dump = JSON.stringify(rows);
      expect(dump, tablename).not.toContain(secret);
      expect(dump, tablename).not.toContain(secret.slice(4, 24));
    }
    const [row] = rowsOf<{ secret_ciphertext: string }>(await gw.database.db.execute(sql`select secret_ciphertext from upstream_keys where id = ${id}`));
    expect(gw.gateway.secrets.decrypt(row!.secret_ciphertext)).toBe(secret);
    await gql.ok(`mutation($id: ID!) { removeUpstreamKey(id: $id) }`, { id });
  });

  it('rotates, disables, enables and removes a key, each effective on the next request', async () => {
    await gql.ok(UPSERT, { input: { id: 'pool-model', kind: 'CHAT', ownedBy: 'acme', inputPrice: '1', outputPrice: '1', routes: [{ provider: 'openai-compatible', upstreamModel: 'pool-upstream' }] } });
    const added = await gql.ok(ADD_KEY, { input: { provider: 'openai-compatible', label: 'pool', secret: 'sk-first-0001', baseUrl: upstream.url } });
    const id = added.addUpstreamKey.id as string;
    const { secret } = await liveProject(['pool-model']);
    const client = gw.client(secret);
    const ask = () => client.chat.completions.create({ model: 'pool-model', messages: [{ role: 'user', content: 'x' }] });
    const lastAuth = () => upstream.requests.at(-1)!.headers.authorization;

    await ask();
    expect(lastAuth()).toBe('Bearer sk-first-0001');

    const updated = await gql.ok(`mutation($id: ID!) { updateUpstreamKey(id: $id, input: {secret: "sk-second-0002", label: "pool-2", weight: 5, models: ["pool-upstream"]}) { label secretLast4 weight models } }`, { id });
    expect(updated.updateUpstreamKey).toEqual({ label: 'pool-2', secretLast4: '0002', weight: 5, models: ['pool-upstream'] });
    await ask();
    expect(lastAuth()).toBe('Bearer sk-second-0002');

    const disabled = await gql.ok(`mutation($id: ID!) { disableUpstreamKey(id: $id, reason: "billing issue") { status disabledReason health { state } } }`, { id });
    expect(disabled.disableUpstreamKey).toEqual({ status: 'DISABLED', disabledReason: 'billing issue', health: { state: 'DISABLED' } });
    const requestsBefore = upstream.requests.length;
    const err = await ask().catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(upstream.requests.length).toBe(requestsBefore);

    const enabled = await gql.ok(`mutation($id: ID!) { enableUpstreamKey(id: $id) { status disabledReason health { state } } }`, { id });
    expect(enabled.enableUpstreamKey).toEqual({ status: 'ACTIVE', disabledReason: null, health: { state: 'HEALTHY' } });
    await ask();

    const invalid = await gql.request(`mutation($id: ID!) { updateUpstreamKey(id: $id, input: {baseUrl: null}) { id } }`, { id });
    expect(invalid.errors![0]).toMatchObject({ message: expect.stringMatching(/openai-compatible key needs a baseUrl/), extensions: { field: 'baseUrl' } });
    const badUrl = await gql.request(`mutation($id: ID!) { updateUpstreamKey(id: $id, input: {baseUrl: "ftp://x"}) { id } }`, { id });
    expect(badUrl.errors![0]!.message).toMatch(/'baseUrl': must be an http\(s\) URL/);

    expect(await gql.ok(`mutation($id: ID!) { removeUpstreamKey(id: $id) }`, { id })).toEqual({ removeUpstreamKey: id });
    expect(await gql.ok(`query($id: ID!) { upstreamKey(id: $id) { id } }`, { id })).toEqual({ upstreamKey: null });
    expect(((await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    const actions = await gql.ok(`query($id: ID!) { auditLog(filter: {targetId: $id}) { nodes { action } } }`, { id });
    expect(actions.auditLog.nodes.map((n: { action: string }) => n.action)).toEqual(['removeUpstreamKey', 'enableUpstreamKey', 'disableUpstreamKey', 'updateUpstreamKey', 'addUpstreamKey']);
  });

  it('refuses invalid keys with the field named', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ provider: 'azure', label: 'x', secret: 'sk-12345678' }, /'provider': must be one of/],
      [{ provider: 'openai-compatible', label: 'x', secret: 'sk-12345678' }, /needs a baseUrl/],
      [{ provider: 'openai', label: 'x', secret: 'short' }, /'secret': must be the provider key/],
      [{ provider: 'openai', label: '', secret: 'sk-12345678' }, /'label': must not be empty/],
      [{ provider: 'openai', label: 'x', secret: 'sk-12345678', weight: 0 }, /'weight': must be at least 1/],
    ];
    const before = (await gql.ok(`{ upstreamKeys { id } }`)).upstreamKeys.length;
    for (const [input, message] of cases) {
      const res = await gql.request(ADD_KEY, { input });
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
    expect((await gql.ok(`{ upstreamKeys { id } }`)).upstreamKeys.length).toBe(before);
  });
});
