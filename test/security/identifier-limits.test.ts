// Issue 20, finding 4: identifiers, names, labels, reasons and secrets are
// bounded and free of control characters at both doors, refused with a 400
// (REST) or BAD_USER_INPUT (GraphQL) naming the field before they reach the
// database; and a database error never carries the statement's parameters
// into a log line.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import { apiKeys, upstreamKeys, usageRecords } from '../../src/db/schema.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { capturedLogger } from './log-capture.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
const captured = capturedLogger();

beforeAll(async () => {
  gw = await startGateway({ logger: captured.logger });
  gql = graphqlClient(gw.url, gw.adminToken);
});
afterAll(async () => {
  await gw?.close();
});

const randomText = (bytes: number) => randomBytes(bytes).toString('base64');

async function post(path: string, secret: string, body: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { param: string | null; type: string; message: string } } };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('REST: identifiers', () => {
  it('a model of 2.7 KB of random text is a 400 naming model, not a 500 (index row too large)', async () => {
    const { secret, projectId } = await gw.project();
    const model = randomText(2100); // 2,800 characters that do not compress
    const res = await post('/v1/chat/completions', secret, chat(model));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    // The refusal is recorded, with the model cut to a length any index takes.
    const rows = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.modelId).toBe(model.slice(0, 256));
  });

  it('NUL and other control characters in identifiers are a 400 naming the field', async () => {
    const { secret } = await gw.project();
    const cases: Array<[string, unknown, string]> = [
      ['/v1/chat/completions', chat('gpt-4o-mini\u0000'), 'model'],
      ['/v1/chat/completions', chat('a\u0000b'), 'model'],
      ['/v1/chat/completions', chat('gpt-4o-mini\n'), 'model'],
      ['/v1/chat/completions', chat('gpt-4o-mini\ud800'), 'model'],
      ['/v1/chat/completions', chat('gpt-4o-mini', { user: 'u\u0000' }), 'user'],
      ['/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi', name: 'x\u0007' }] }, 'messages.0.name'],
      ['/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'tool', content: 'r', tool_call_id: 'c'.repeat(257) }] }, 'messages.0.tool_call_id'],
      ['/v1/embeddings', { model: 'text-embedding-3-small\u0000', input: 'hi' }, 'model'],
      ['/v1/embeddings', { model: 'x'.repeat(257), input: 'hi' }, 'model'],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(path, secret, body);
      expect({ path, param, status: res.status }).toEqual({ path, param, status: 400 });
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('message content is free text: NUL and line breaks pass', async () => {
    const { secret } = await gw.project();
    const res = await post('/v1/chat/completions', secret, chat('gpt-4o-mini', { messages: [{ role: 'user', content: 'a\u0000b\nc\u001b' }] }));
    expect(res.status).toBe(200);
  });

  it('path and query parameters: NUL, huge and prototype names are 400s', async () => {
    const { secret } = await gw.project();
    const get = async (path: string, key: string) => {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as { error?: { param: string | null; type: string; code: number } } };
    };
    expect(await get('/api/balance/key_%00', gw.adminToken)).toMatchObject({ status: 400, body: { error: { param: 'keyId' } } });
    // Past Fastify's router limit (100 characters a path parameter), still the OpenAI shape.
    expect(await get(`/api/balance/${'k'.repeat(300)}`, gw.adminToken)).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', code: 400 } } });
    expect(await get('/api/balance/%E0%A4%A', gw.adminToken)).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', code: 400 } } });
    expect(await get('/api/usage/requests/req_%00', secret)).toMatchObject({ status: 400, body: { error: { param: 'requestId' } } });
    expect(await get('/api/usage?range=toString', secret)).toMatchObject({ status: 400, body: { error: { param: 'range' } } });
    expect(await get('/api/usage?range=__proto__', secret)).toMatchObject({ status: 400, body: { error: { param: 'range' } } });
    expect(await get('/v1/models/gpt-4o-mini%00', secret)).toMatchObject({ status: 400, body: { error: { param: 'model' } } });
  });
});

describe('GraphQL: names, labels, reasons, ids and secrets', () => {
  it('NUL in any of them is BAD_USER_INPUT naming the field, and nothing is stored', async () => {
    const project = await createProject(gw.database.db, { name: 'target', initialBalance: '5', actor: 'test' });
    const key = await createApiKey(gw.database.db, gw.gateway.bus, { projectId: project.id, mode: 'test' });
    const upstream = await gql.ok<{ addUpstreamKey: { id: string } }>(
      'mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }',
      { i: { provider: 'openai', label: 'ok', secret: 'sk-good-secret-123' } },
    );
    const upstreamId = upstream.addUpstreamKey.id;
    const route = { provider: 'openai', upstreamModel: 'gpt-4o-mini' };
    const model = { id: 'm-ok', kind: 'CHAT', ownedBy: 'me', inputPrice: '1', outputPrice: '1', routes: [route] };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }', { i: { name: 'p\u0000' } }, 'name'],
      ['mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }', { i: { name: 'p', models: ['gpt\u0000'] } }, 'models.0'],
      ['mutation($id: ID!, $i: UpdateProjectInput!) { updateProject(id: $id, input: $i) { id } }', { id: project.id, i: { name: 'x\u001b[31m' } }, 'name'],
      ['mutation($id: ID!) { archiveProject(id: $id) { id } }', { id: 'prj_\u0000' }, 'id'],
      ['mutation($p: ID!) { creditBalance(projectId: $p, amount: "1", reason: "r\u0000") { balance } }', { p: project.id }, 'reason'],
      ['mutation($p: ID!) { adjustBalance(projectId: $p, amount: "-1", reason: "r\u0000") { balance } }', { p: project.id }, 'reason'],
      ['mutation($p: ID!) { creditBalance(projectId: $p, amount: "1", reason: "ok") { balance } }', { p: `${project.id}\u0000` }, 'projectId'],
      ['mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }', { i: { projectId: project.id, mode: 'TEST', name: 'k\u0000' } }, 'name'],
      ['mutation($id: ID!, $i: ApiKeyLimitsInput!) { setApiKeyLimits(id: $id, input: $i) { id } }', { id: key.apiKey.id, i: { name: 'k\u0000' } }, 'name'],
      ['mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: `${key.apiKey.id}\u0000` }, 'id'],
      ['mutation { createAdminToken(name: "t\\u0000", role: VIEWER) { secret } }', {}, 'name'],
      ['mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }', { i: { provider: 'openai', label: 'l\u0000', secret: 'sk-good-secret-456' } }, 'label'],
      ['mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }', { i: { provider: 'openai', label: 'l', secret: 'sk-bad\u0000secret' } }, 'secret'],
      ['mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }', { i: { provider: 'openai', label: 'l', secret: 'sk-bad-ключ-secret' } }, 'secret'],
      ['mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }', { i: { provider: 'openai', label: 'l', secret: 'sk-good-secret-789', models: ['m\u0000'] } }, 'models.0'],
      ['mutation($id: ID!, $i: UpdateUpstreamKeyInput!) { updateUpstreamKey(id: $id, input: $i) { id } }', { id: upstreamId, i: { secret: 'sk-new\u0000secret' } }, 'secret'],
      ['mutation($id: ID!) { disableUpstreamKey(id: $id, reason: "r\\u0000") { id } }', { id: upstreamId }, 'reason'],
      ['mutation($i: UpsertModelInput!) { upsertModel(input: $i) { id } }', { i: { ...model, ownedBy: 'o\u0000' } }, 'ownedBy'],
      ['mutation($i: UpsertModelInput!) { upsertModel(input: $i) { id } }', { i: { ...model, routes: [{ ...route, upstreamModel: 'u\u0000' }] } }, 'routes.0.upstreamModel'],
      ['mutation($i: UpsertModelInput!) { upsertModel(input: $i) { id } }', { i: { ...model, routes: [{ ...route, upstreamModel: randomText(2100) }] } }, 'routes.0.upstreamModel'],
      ['mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["gpt-4o-mini\\u0000"]) { id } }', { p: project.id }, 'models.0'],
      ['mutation($id: ID!) { deleteModel(id: $id) }', { id: 'gpt\u0000' }, 'id'],
    ];
    for (const [query, variables, field] of cases) {
      const result = await gql.request(query, variables);
      expect({ query, field, code: result.errors?.[0]?.extensions?.code }).toEqual({ query, field, code: 'BAD_USER_INPUT' });
      expect(result.errors![0]!.extensions!.field).toBe(field);
    }
    // The one upstream key added above is all there is; no secret with a NUL was stored.
    expect(await gw.database.db.select({ id: upstreamKeys.id, label: upstreamKeys.label }).from(upstreamKeys)).toEqual([{ id: upstreamId, label: 'ok' }]);
    const [after] = await gw.database.db.select({ name: apiKeys.name }).from(apiKeys).where(eq(apiKeys.id, key.apiKey.id));
    expect(after!.name).toBe('');
  });
});

describe('logs', () => {
  it('a 1 MB model name is refused, and nothing logged carries it', async () => {
    const { secret } = await gw.project();
    const model = randomText(786_432); // 1 MiB of base64
    captured.lines.length = 0;
    const res = await post('/v1/chat/completions', secret, chat(model));
    expect(res.status).toBe(400);
    expect(res.body.error!.param).toBe('model');
    expect(res.body.error!.message.length).toBeLessThan(200);
    const written = captured.lines.join('\n');
    expect(written.length).toBeLessThan(4096);
    expect(written).not.toContain(model.slice(0, 64));
  });

  it('a database error is logged with its statement and a parameter summary: short, no value, no key hash or prefix', async () => {
    // Provoked under the doors' validation: the insert the refusal path makes, with an
    // uncompressible 1 MB model id and the key's hash and prefix among the parameters.
    const { projectId, keyId } = await gw.project();
    const [key] = await gw.database.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
    const model = randomText(786_432);
    const err = await gw.database.db
      .insert(usageRecords)
      .values({ id: `req_${randomBytes(6).toString('hex')}`, projectId, apiKeyId: keyId, endpoint: 'chat', modelId: model, status: 'rejected', errorCode: key!.keyHash, upstreamModel: key!.prefix, replicaId: 'r' })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    captured.lines.length = 0;
    captured.logger.error({ err }, 'settlement failed');
    expect(captured.lines).toHaveLength(1);
    const line = captured.lines[0]!;
    expect(line.length).toBeLessThan(3000);
    expect(line).not.toContain(model.slice(0, 32));
    expect(line).not.toContain(key!.keyHash);
    expect(line).not.toContain(key!.prefix);
    const logged = JSON.parse(line).err;
    expect(logged.statement).toMatch(/^insert into "usage_records"/);
    expect(logged.params).toMatch(/^\d+: text\(\d+\)/);
    expect(logged.code).toBe('54000'); // program_limit_exceeded: index row too large
    expect(logged.stack).toMatch(/^\s+at /);
  });

  it('a NUL reaching the database is logged without the parameter either', async () => {
    const { projectId, keyId } = await gw.project();
    const err = await gw.database.db
      .insert(usageRecords)
      .values({ id: `req_${randomBytes(6).toString('hex')}`, projectId, apiKeyId: keyId, endpoint: 'chat', modelId: 'secret-model\u0000name', status: 'rejected', replicaId: 'r' })
      .then(() => undefined, (e: unknown) => e);
    captured.lines.length = 0;
    captured.logger.error({ err }, 'write failed');
    const logged = JSON.parse(captured.lines[0]!).err;
    expect(logged.code).toBe('22021');
    expect(captured.lines[0]).not.toContain('secret-model');
  });
});
