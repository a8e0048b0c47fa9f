// Secrets never reach the logs: the real process at debug level, driven
// through every way a key can be presented, upstream key rejection and
// failover, upstream errors, bad input and GraphQL mutations carrying
// secrets; then everything it wrote is searched for each secret.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { createApiKey, createProject, setModelPermissions } from '../../src/core/projects/project-admin.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import { providerInfos } from '../../src/providers/registry.js';
import { SecretBox } from '../../src/core/secrets/secret-box.js';
import { openDatabase } from '../../src/db/open-database.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { spawnGateway } from '../helpers/gateway-process.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const secretOf = (prefix: string) => `${prefix}${randomBytes(18).toString('hex')}`;

describe('logs', () => {
  it('never contain a project key, an operator token, an upstream key or the encryption key', async () => {
    const encryptionKey = randomBytes(32).toString('hex');
    const adminToken = secretOf('gwa_');
    const goodUpstream = secretOf('sk-good-');
    const badUpstream = secretOf('sk-bad-');
    const graphqlUpstream = secretOf('sk-gql-');
    const unknownProjectKey = secretOf('pk_live_');

    const env: Record<string, string> = { ENCRYPTION_KEY: encryptionKey, ADMIN_TOKEN: adminToken, LOG_LEVEL: 'debug' };
    if (onPostgres()) {
      const pg = await createTestDatabase();
      cleanups.push(() => pg.drop());
      env.DATABASE_URL = pg.url;
    } else {
      env.DATA_DIR = mkdtempSync(join(tmpdir(), 'gw-log-secrets-'));
      env.DATABASE_URL = '';
      cleanups.push(async () => rmSync(env.DATA_DIR!, { recursive: true, force: true }));
    }
    const upstream = await startOpenAIEmulator({ validKeys: [goodUpstream] });
    cleanups.push(() => upstream.close());

    // Seeded before the process starts (PGlite admits one process at a time).
    const database = await openDatabase({ databaseUrl: env.DATABASE_URL || undefined, dataDir: env.DATA_DIR ?? 'memory://', migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)) });
    const bus = new LocalEventBus();
    const box = SecretBox.fromString(encryptionKey);
    await upsertModel(database.db, { id: 'log-model', kind: 'chat', ownedBy: 'test', inputPrice: '1', outputPrice: '2', maxOutputTokens: 100, routes: [{ provider: 'openai', upstreamModel: 'log-upstream' }] });
    // The rejected key is tried first (priority 0), then the good one.
    await addUpstreamKey(database.db, box, bus, providerInfos, { provider: 'openai', label: 'bad', secret: badUpstream, baseUrl: upstream.url, priority: 0, models: ['log-upstream'] });
    await addUpstreamKey(database.db, box, bus, providerInfos, { provider: 'openai', label: 'good', secret: goodUpstream, baseUrl: upstream.url, priority: 1, models: ['log-upstream'] });
    const project = await createProject(database.db, { name: 'logs', initialBalance: '10', actor: 'test' });
    await setModelPermissions(database.db, bus, project.id, ['*']);
    const { secret: projectKey } = await createApiKey(database.db, bus, { projectId: project.id, mode: 'live' });
    await database.close();

    const gateway = await spawnGateway(env);
    cleanups.push(async () => gateway.child.kill('SIGKILL'));
    let output = '';
    gateway.child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    gateway.child.stderr!.on('data', (d: Buffer) => (output += d.toString()));

    const body = { model: 'log-model', messages: [{ role: 'user' as const, content: 'hi' }] };
    const client = new OpenAI({ apiKey: projectKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    // The bad upstream key answers 401 and is disabled; the request fails over to the good one.
    const first = await client.chat.completions.create(body);
    expect(first.choices[0]!.message.content).toBeTruthy();
    await client.chat.completions.create({ ...body, stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    // The other two places a key may be presented.
    const post = (path: string, headers: Record<string, string>, payload: unknown) =>
      fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
    expect((await post('/v1/chat/completions', { 'x-api-key': projectKey }, body)).status).toBe(200);
    expect((await post(`/v1/chat/completions?api_key=${projectKey}`, {}, body)).status).toBe(200);
    // Refusals: an unknown key, bad input, an upstream failure.
    expect((await post('/v1/chat/completions', { authorization: `Bearer ${unknownProjectKey}` }, body)).status).toBe(401);
    expect((await post(`/v1/chat/completions?api_key=${unknownProjectKey}`, {}, body)).status).toBe(401);
    expect((await post('/v1/chat/completions', { authorization: `Bearer ${projectKey}` }, { model: 'log-model', messages: 'nope' })).status).toBe(400);
    upstream.enqueue({ status: 500 }, { status: 500 });
    expect((await post('/v1/chat/completions', { authorization: `Bearer ${projectKey}` }, body)).status).toBeGreaterThanOrEqual(500);

    // GraphQL: a mutation carrying a secret, one refused with a secret in it, a wrong operator token.
    const graphql = (token: string, query: string, variables: unknown) =>
      fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) }).then((r) => r.json() as Promise<{ data?: unknown; errors?: unknown[] }>);
    const add = 'mutation($input: AddUpstreamKeyInput!) { addUpstreamKey(input: $input) { id } }';
    const added = await graphql(adminToken, add, { input: { provider: 'openai', label: 'gql', secret: graphqlUpstream, baseUrl: upstream.url } });
    expect(added.errors).toBeUndefined();
    const refused = await graphql(adminToken, add, { input: { provider: 'no-such-provider', label: 'gql', secret: graphqlUpstream } });
    expect(refused.errors?.length).toBeGreaterThan(0);
    const wrongToken = await graphql(`${adminToken}x`, '{ projects(first: 1) { edges { node { id } } } }', {});
    expect(wrongToken.errors?.length).toBeGreaterThan(0);

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);

    // The logs did record what happened (so this search means something)...
    expect(output).toContain('upstream rejected the key');
    expect(output.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(3);
    // ...and no secret, whole or as its random part.
    for (const secret of [projectKey, unknownProjectKey, adminToken, goodUpstream, badUpstream, graphqlUpstream, encryptionKey]) {
      const randomPart = secret.slice(secret.length - 24);
      expect(output, `a secret starting ${secret.slice(0, 8)} was logged`).not.toContain(randomPart);
    }
  });
});
