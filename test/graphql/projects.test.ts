// Projects, API keys, permissions and balances through the GraphQL admin API,
// and their effect on the REST hot path: each change reaches it at once.
import { asc, count, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, auditLog, ledgerEntries, projectModelPermissions, projects } from '../../src/db/schema.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
beforeAll(async () => {
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
});
afterAll(async () => gw?.close());

async function newProject(name: string, extra = '') {
  const data = await gql.ok(`mutation($name: String!) { createProject(input: {name: $name, initialBalance: "10"${extra}}) { id name balance } }`, { name });
  return data.createProject as { id: string; name: string; balance: string };
}

async function newKey(projectId: string, mode: 'LIVE' | 'TEST' = 'TEST') {
  const data = await gql.ok(`mutation($p: ID!, $m: KeyMode!) { createApiKey(input: {projectId: $p, mode: $m, name: "ci"}) { secret apiKey { id prefix mode last4 state } } }`, { p: projectId, m: mode });
  return data.createApiKey as { secret: string; apiKey: { id: string; prefix: string; mode: string; last4: string; state: string } };
}

const auditRows = async (targetId: string) => gw.database.db.select().from(auditLog).where(eq(auditLog.targetId, targetId)).orderBy(asc(auditLog.createdAt));

describe('projects', () => {
  it('creates a project with its initial balance in the ledger, and an audit entry naming the operator', async () => {
    const project = await newProject('acme');
    expect(project).toMatchObject({ name: 'acme', balance: '10' });
    const read = await gql.ok(
      `query($id: ID!) { project(id: $id) { balance reserved available status currency usageSummary { requests costTotal } apiKeys { id } ledger { edges { node { kind amount balanceAfter reason actor } } } } }`,
      { id: project.id },
    );
    expect(read.project).toMatchObject({ balance: '10', reserved: '0', available: '10', status: 'ACTIVE', currency: 'USD', usageSummary: { requests: 0, costTotal: '0' }, apiKeys: [] });
    expect(read.project.ledger.edges.map((e: { node: unknown }) => e.node)).toEqual([{ kind: 'CREDIT', amount: '10', balanceAfter: '10', reason: 'initial balance', actor: 'ADMIN_TOKEN' }]);
    const [audit] = await auditRows(project.id);
    expect(audit).toMatchObject({ actor: 'ADMIN_TOKEN', action: 'createProject', targetType: 'project', before: null });
    expect(audit!.after).toMatchObject({ id: project.id, name: 'acme' });
  });

  it('updates a project’s name and limits (null clears a limit), and archives it so its keys stop working', async () => {
    const project = await newProject('to-change');
    const key = await newKey(project.id);
    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["*"]) { id } }`, { p: project.id });
    const updated = await gql.ok(`mutation($id: ID!) { updateProject(id: $id, input: {name: "renamed", rpmLimit: 100, tpmLimit: 5000}) { name rpmLimit tpmLimit } }`, { id: project.id });
    expect(updated.updateProject).toEqual({ name: 'renamed', rpmLimit: 100, tpmLimit: 5000 });
    const cleared = await gql.ok(`mutation($id: ID!) { updateProject(id: $id, input: {rpmLimit: null}) { name rpmLimit tpmLimit } }`, { id: project.id });
    expect(cleared.updateProject).toEqual({ name: 'renamed', rpmLimit: null, tpmLimit: 5000 });

    await gw.client(key.secret).models.list();
    const archived = await gql.ok(`mutation($id: ID!) { archiveProject(id: $id) { status } }`, { id: project.id });
    expect(archived.archiveProject.status).toBe('ARCHIVED');
    const err = await gw.client(key.secret).models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toMatch(/archived/);

    const refused = await gql.request(`mutation($p: ID!) { createApiKey(input: {projectId: $p, mode: TEST}) { secret } }`, { p: project.id });
    expect(refused.errors![0]).toMatchObject({ message: expect.stringMatching(/archived/), extensions: { code: 'BAD_USER_INPUT', field: 'projectId' } });
    expect((await auditRows(project.id)).map((a) => a.action).sort()).toEqual(['archiveProject', 'createProject', 'setModelPermissions', 'updateProject', 'updateProject']);
  });

  it('refuses invalid input with a clear error naming the field, and writes nothing', async () => {
    const [{ n: before } = { n: -1 }] = await gw.database.db.select({ n: count() }).from(projects);
    const cases: Array<[string, RegExp, string]> = [
      [`mutation { createProject(input: {name: "  "}) { id } }`, /'name': must not be empty/, 'name'],
      [`mutation { createProject(input: {name: "x", initialBalance: "-5"}) { id } }`, /'initialBalance': must not be negative/, 'initialBalance'],
      [`mutation { createProject(input: {name: "x", initialBalance: "1.0000000000001"}) { id } }`, /at most 12 decimals/, 'initialBalance'],
      [`mutation { createProject(input: {name: "x", rpmLimit: 0}) { id } }`, /'rpmLimit': must be positive/, 'rpmLimit'],
      [`mutation { createProject(input: {name: "x", models: ["no-such-model"]}) { id } }`, /Unknown model: no-such-model/, 'models'],
    ];
    for (const [query, message, field] of cases) {
      const res = await gql.request(query);
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const float = await gql.request(`mutation { createProject(input: {name: "x", initialBalance: 1.5}) { id } }`);
    expect(float.errors![0]!.message).toMatch(/Decimal values are strings/);
    const [{ n: after } = { n: -2 }] = await gw.database.db.select({ n: count() }).from(projects);
    expect(after).toBe(before);
  });

  it('pages through projects with cursors', async () => {
    for (const i of [1, 2, 3]) await newProject(`paged-${i}`);
    const first = await gql.ok(`{ projects(first: 2, filter: {search: "paged-"}) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`);
    expect(first.projects.edges.map((e: { node: { name: string } }) => e.node.name)).toEqual(['paged-3', 'paged-2']);
    expect(first.projects.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await gql.ok(`query($after: String) { projects(first: 2, after: $after, filter: {search: "paged-"}) { nodes { name } pageInfo { hasNextPage hasPreviousPage } } }`, {
      after: first.projects.pageInfo.endCursor,
    });
    expect(second.projects.nodes.map((n: { name: string }) => n.name)).toEqual(['paged-1']);
    expect(second.projects.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    const bad = await gql.request(`{ projects(after: "nonsense") { nodes { id } } }`);
    expect(bad.errors![0]).toMatchObject({ message: expect.stringMatching(/Invalid cursor/), extensions: { code: 'BAD_USER_INPUT' } });
    const tooMany = await gql.request(`{ projects(first: 1000) { nodes { id } } }`);
    expect(tooMany.errors![0]!.message).toMatch(/first must be between 1 and 200/);
  });
});

describe('API keys', () => {
  it('returns the secret once, stores only its hash, and the key works on the REST API at once', async () => {
    const project = await newProject('keys');
    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["*"]) { id } }`, { p: project.id });
    const key = await newKey(project.id);
    expect(key.secret).toMatch(/^pk_test_/);
    expect(key.apiKey).toMatchObject({ prefix: key.secret.slice(0, 12), mode: 'TEST', last4: key.secret.slice(-4), state: 'ACTIVE' });
    const [row] = await gw.database.db.select().from(apiKeys).where(eq(apiKeys.id, key.apiKey.id));
    expect(JSON.stringify(row)).not.toContain(key.secret);
    const audits = await auditRows(key.apiKey.id);
    expect(JSON.stringify(audits)).not.toContain(key.secret);
    expect(JSON.stringify(audits)).not.toContain(row!.keyHash);
    expect((audits[0]!.after as Record<string, unknown>).keyHash).toBe('[redacted]');

    const reply = await gw.client(key.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.object).toBe('chat.completion');
    // Reading keys back never shows a secret.
    const listed = await gql.ok(`query($p: ID!) { apiKeys(filter: {projectId: $p}) { nodes { id prefix last4 } } }`, { p: project.id });
    expect(JSON.stringify(listed)).not.toContain(key.secret);
  });

  it('revokes a key: the very next REST call gets 401', async () => {
    const project = await newProject('revoke');
    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["*"]) { id } }`, { p: project.id });
    const key = await newKey(project.id);
    await gw.client(key.secret).models.list(); // cached as valid
    const revoked = await gql.ok(`mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt state } }`, { id: key.apiKey.id });
    expect(revoked.revokeApiKey).toMatchObject({ id: key.apiKey.id, state: 'REVOKED' });
    expect(Date.parse(revoked.revokeApiKey.revokedAt)).toBeGreaterThan(Date.now() - 60_000);
    const err = await gw.client(key.secret).models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toMatch(/revoked/);
    const missing = await gql.request(`mutation { revokeApiKey(id: "key_nope") { id } }`);
    expect(missing.errors![0]).toMatchObject({ message: 'API key key_nope not found.', extensions: { code: 'NOT_FOUND' } });
  });

  it('sets spend limit and period, expiry and rate limits; an expiry in the past stops the key at once', async () => {
    const project = await newProject('limits');
    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["*"]) { id } }`, { p: project.id });
    const key = await newKey(project.id);
    const set = await gql.ok(
      `mutation($id: ID!) { setApiKeyLimits(id: $id, input: {spendLimit: "2.5", spendLimitPeriod: MONTHLY, rpmLimit: 60, tpmLimit: 10000}) { spendLimit spendLimitPeriod spent rpmLimit tpmLimit expiresAt } }`,
      { id: key.apiKey.id },
    );
    expect(set.setApiKeyLimits).toEqual({ spendLimit: '2.5', spendLimitPeriod: 'MONTHLY', spent: '0', rpmLimit: 60, tpmLimit: 10000, expiresAt: null });
    const balance = await fetch(`${gw.url}/api/balance/${key.apiKey.id}`, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(JSON.stringify(await balance.json())).toMatch(/2\.5/);

    const cleared = await gql.ok(`mutation($id: ID!) { setApiKeyLimits(id: $id, input: {spendLimit: null, rpmLimit: null}) { spendLimit rpmLimit tpmLimit } }`, { id: key.apiKey.id });
    expect(cleared.setApiKeyLimits).toEqual({ spendLimit: null, rpmLimit: null, tpmLimit: 10000 });

    await gw.client(key.secret).models.list();
    const past = new Date(Date.now() - 1000).toISOString();
    const expired = await gql.ok(`mutation($id: ID!, $at: DateTime!) { setApiKeyLimits(id: $id, input: {expiresAt: $at}) { state expiresAt } }`, { id: key.apiKey.id, at: past });
    expect(expired.setApiKeyLimits.state).toBe('EXPIRED');
    const err = await gw.client(key.secret).models.list().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/expired/);

    const bad = await gql.request(`mutation($id: ID!) { setApiKeyLimits(id: $id, input: {tpmLimit: -3}) { id } }`, { id: key.apiKey.id });
    expect(bad.errors![0]).toMatchObject({ message: expect.stringMatching(/'tpmLimit': must be positive/), extensions: { code: 'BAD_USER_INPUT', field: 'tpmLimit' } });
    const [row] = await gw.database.db.select().from(apiKeys).where(eq(apiKeys.id, key.apiKey.id));
    expect(row!.tpmLimit).toBe(10000);
  });
});

describe('model permissions', () => {
  it('setModelPermissions takes effect on /v1/models at once; ["*"] means all, [] none', async () => {
    const project = await newProject('perms');
    const key = await newKey(project.id);
    const client = gw.client(key.secret);
    expect((await client.models.list()).data).toEqual([]);

    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["gemini-2.0-flash", "gpt-4o-mini"]) { id } }`, { p: project.id });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['gemini-2.0-flash', 'gpt-4o-mini']);
    const read = await gql.ok(`query($id: ID!) { project(id: $id) { allModels permissions { modelId allModels model { id ownedBy } } } }`, { id: project.id });
    expect(read.project).toEqual({
      allModels: false,
      permissions: [
        { modelId: 'gemini-2.0-flash', allModels: false, model: { id: 'gemini-2.0-flash', ownedBy: 'google' } },
        { modelId: 'gpt-4o-mini', allModels: false, model: { id: 'gpt-4o-mini', ownedBy: 'openai' } },
      ],
    });
    const denied = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);

    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["*"]) { id } }`, { p: project.id });
    expect((await client.models.list()).data.length).toBeGreaterThan(5);
    await gql.ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: []) { id } }`, { p: project.id });
    expect((await client.models.list()).data).toEqual([]);

    const unknown = await gql.request(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["gpt-4o-mini", "gpt-99"]) { id } }`, { p: project.id });
    expect(unknown.errors![0]).toMatchObject({ message: expect.stringMatching(/Unknown model: gpt-99/), extensions: { code: 'BAD_USER_INPUT', field: 'models' } });
    expect(await gw.database.db.select().from(projectModelPermissions).where(eq(projectModelPermissions.projectId, project.id))).toEqual([]);
    const audit = (await auditRows(project.id)).filter((a) => a.action === 'setModelPermissions');
    expect(audit.map((a) => a.after)).toEqual([{ models: ['gemini-2.0-flash', 'gpt-4o-mini'] }, { models: ['*'] }, { models: [] }]);
  });
});

describe('balances', () => {
  it('credits and adjusts a balance through the ledger, which always sums to the balance', async () => {
    const project = await newProject('money');
    const credit = await gql.ok(`mutation($p: ID!) { creditBalance(projectId: $p, amount: "25", reason: "top-up") { balance reserved ledgerEntry { kind amount balanceAfter reason actor } project { balance } } }`, { p: project.id });
    expect(credit.creditBalance).toEqual({
      balance: '35',
      reserved: '0',
      ledgerEntry: { kind: 'CREDIT', amount: '25', balanceAfter: '35', reason: 'top-up', actor: 'ADMIN_TOKEN' },
      project: { balance: '35' },
    });
    const adjust = await gql.ok(`mutation($p: ID!) { adjustBalance(projectId: $p, amount: "-0.000001", reason: "rounding fix") { balance ledgerEntry { kind amount } } }`, { p: project.id });
    expect(adjust.adjustBalance).toEqual({ balance: '34.999999', ledgerEntry: { kind: 'ADJUSTMENT', amount: '-0.000001' } });

    for (const [query, message] of [
      [`mutation($p: ID!) { creditBalance(projectId: $p, amount: "0", reason: "x") { balance } }`, /must be greater than zero/],
      [`mutation($p: ID!) { creditBalance(projectId: $p, amount: "-1", reason: "x") { balance } }`, /must be greater than zero/],
      [`mutation($p: ID!) { creditBalance(projectId: $p, amount: "5", reason: " ") { balance } }`, /'reason': must say why/],
      [`mutation($p: ID!) { creditBalance(projectId: $p, amount: "abc", reason: "x") { balance } }`, /Decimal values are strings/],
      [`mutation($p: ID!) { adjustBalance(projectId: $p, amount: "-100", reason: "too much") { balance } }`, /below the amount reserved/],
    ] as const) {
      const res = await gql.request(query, { p: project.id });
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    const missing = await gql.request(`mutation { creditBalance(projectId: "prj_none", amount: "1", reason: "x") { balance } }`);
    expect(missing.errors![0]!.extensions!.code).toBe('NOT_FOUND');

    const entries = await gw.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.projectId, project.id));
    expect(entries.map((e) => e.kind).sort()).toEqual(['adjustment', 'credit', 'credit']);
    const [row] = await gw.database.db.select().from(projects).where(eq(projects.id, project.id));
    expect(row!.balance).toBe('34.999999000000');
    const listed = await gql.ok(`query($p: ID!) { ledgerEntries(filter: {projectId: $p, kinds: [CREDIT]}) { nodes { amount reason } } }`, { p: project.id });
    expect(listed.ledgerEntries.nodes).toEqual([
      { amount: '25', reason: 'top-up' },
      { amount: '10', reason: 'initial balance' },
    ]);
    const audit = (await auditRows(project.id)).filter((a) => a.action !== 'createProject');
    expect(audit.map((a) => [a.action, a.before, (a.after as { balance: string }).balance])).toEqual([
      ['creditBalance', { balance: '10' }, '35'],
      ['adjustBalance', { balance: '35' }, '34.999999'],
    ]);
  });
});

describe('audit log', () => {
  it('is queryable newest first, filtered by action and target', async () => {
    const project = await newProject('audited');
    await gql.ok(`mutation($p: ID!) { creditBalance(projectId: $p, amount: "1", reason: "audit me") { balance } }`, { p: project.id });
    const log = await gql.ok(`query($p: ID!) { auditLog(filter: {targetId: $p}) { nodes { actor action targetType targetId before after createdAt } } }`, { p: project.id });
    expect(log.auditLog.nodes.map((n: { action: string }) => n.action)).toEqual(['creditBalance', 'createProject']);
    expect(log.auditLog.nodes[0]).toMatchObject({ actor: 'ADMIN_TOKEN', targetType: 'project', targetId: project.id, before: { balance: '10' }, after: { balance: '11', reason: 'audit me' } });
    const byAction = await gql.ok(`{ auditLog(first: 200, filter: {action: "createProject"}) { nodes { action } } }`);
    expect(byAction.auditLog.nodes.every((n: { action: string }) => n.action === 'createProject')).toBe(true);
  });
});
