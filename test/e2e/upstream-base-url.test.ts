// Upstream base URLs (issue 20, finding 5): what an operator may save, what
// is shown of an old row, where the gateway may connect (the host policy),
// and the loop guard that stops a base URL leading back to the gateway.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOP_HEADER } from '../../src/core/routing/upstream-hop.js';
import { auditLog, ledgerEntries, projects, upstreamKeys } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let upstream: Emulator;
/** Open policy (NODE_ENV is not production). */
let a: TestGateway;
/** Another replica of a's deployment (the same encryption key; its own database is enough here), refusing non-public upstreams. */
let strict: TestGateway;
/** Another deployment, refusing non-public upstreams except 127.0.0.1, where the emulators and `a` listen. */
let loopbackAllowed: TestGateway;
beforeAll(async () => {
  const encryptionKey = randomBytes(32).toString('hex');
  [upstream, a, strict, loopbackAllowed] = await Promise.all([
    startOpenAIEmulator(),
    startGateway({ encryptionKey }),
    startGateway({ encryptionKey, env: { UPSTREAM_DENY_PRIVATE: 'true' } }),
    startGateway({ env: { UPSTREAM_DENY_PRIVATE: 'true', UPSTREAM_HOSTS_ALLOW: '127.0.0.1, *.example.com' } }),
  ]);
  // Three gateways, each migrating its own database.
}, 180_000);
afterAll(async () => {
  await Promise.all([a?.close(), strict?.close(), loopbackAllowed?.close(), upstream?.close()]);
});

const ADD = `mutation($input: AddUpstreamKeyInput!) { addUpstreamKey(input: $input) { id baseUrl } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateUpstreamKeyInput!) { updateUpstreamKey(id: $id, input: $input) { id baseUrl } }`;
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello' }] });

async function balanceOf(gw: TestGateway, projectId: string): Promise<string> {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select({ balance: projects.balance }).from(projects).where(eq(projects.id, projectId));
  return row!.balance;
}

async function chargesOf(gw: TestGateway, projectId: string) {
  await gw.gateway.metering.idle();
  return gw.database.db.select().from(ledgerEntries).where(and(eq(ledgerEntries.projectId, projectId), eq(ledgerEntries.kind, 'charge')));
}

/** Chat requests the gateway's HTTP server received that carry a hop mark: calls made by a gateway. */
function countHops(gw: TestGateway): { readonly nested: number; marks: string[] } {
  const seen = { nested: 0, marks: [] as string[] };
  gw.app.server.on('request', (req: IncomingMessage) => {
    const mark = req.headers[HOP_HEADER];
    if (typeof mark === 'string') {
      seen.nested++;
      seen.marks.push(mark);
    }
  });
  return seen;
}

/** The client's error, which must be an APIError. */
async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('base URLs an operator saves', () => {
  let gw: TestGateway;
  let gql: ReturnType<typeof graphqlClient>;
  beforeAll(() => {
    gw = a;
    gql = graphqlClient(gw.url, gw.adminToken);
  });

  it('refuses credentials, a query or a fragment with BAD_USER_INPUT naming baseUrl, and saves nothing', async () => {
    const { addUpstreamKey } = await gql.ok(ADD, { input: { provider: 'openai-compatible', label: 'clean', secret: 'sk-clean-0001', baseUrl: 'https://llm.example.com/v1' } });
    const before = await gw.database.db.select().from(upstreamKeys);
    const cases: Array<[string, RegExp]> = [
      ['https://user:pass@llm.example.com/v1', /user name or password.*secret/],
      ['https://token@llm.example.com/v1', /user name or password/],
      ['https://llm.example.com/v1?x=1', /query/],
      ['https://llm.example.com/v1?x=1#frag', /query/],
      ['https://llm.example.com/v1#frag', /fragment/],
      ['https://llm.example.com\\@other.example/v1', /backslash/],
    ];
    for (const [baseUrl, message] of cases) {
      for (const [query, variables] of [
        [ADD, { input: { provider: 'openai-compatible', label: 'bad', secret: 'sk-bad-00000001', baseUrl } }],
        [UPDATE, { id: addUpstreamKey.id, input: { baseUrl } }],
      ] as const) {
        const res = await gql.request(query, variables);
        expect(Object.values(res.data ?? {}), baseUrl).toEqual([null]);
        expect(res.errors?.[0]?.extensions, baseUrl).toMatchObject({ code: 'BAD_USER_INPUT', field: 'baseUrl' });
        expect(res.errors?.[0]?.message, baseUrl).toMatch(/^Invalid value for 'baseUrl': /);
        expect(res.errors?.[0]?.message, baseUrl).toMatch(message);
      }
    }
    expect(await gw.database.db.select().from(upstreamKeys)).toEqual(before);
  });

  it('shows a row saved before the rules with its credentials and query masked, to viewers, operators and the audit log', async () => {
    // A row as an earlier version let it be saved.
    const { addUpstreamKey } = await gql.ok(ADD, { input: { provider: 'openai-compatible', label: 'legacy', secret: 'sk-legacy-0001', baseUrl: 'https://llm.example.com/v1' } });
    await gw.database.db.update(upstreamKeys).set({ baseUrl: 'https://alice:hunter22@llm.example.com/v1?key=AQ.secret#frag' }).where(eq(upstreamKeys.id, addUpstreamKey.id));
    const { createAdminToken } = await gql.ok(`mutation { createAdminToken(name: "viewer", role: VIEWER) { secret } }`);
    const masked = 'https://[redacted]@llm.example.com/v1?[redacted]#[redacted]';
    for (const token of [createAdminToken.secret as string, gw.adminToken]) {
      const read = await gql.ok(`query($id: ID!) { upstreamKey(id: $id) { baseUrl } upstreamKeys { id baseUrl } }`, { id: addUpstreamKey.id }, { token });
      expect(read.upstreamKey.baseUrl).toBe(masked);
      expect(read.upstreamKeys.find((k: { id: string }) => k.id === addUpstreamKey.id).baseUrl).toBe(masked);
    }
    const disabled = await gql.ok(`mutation($id: ID!) { disableUpstreamKey(id: $id) { baseUrl } }`, { id: addUpstreamKey.id });
    expect(disabled.disableUpstreamKey.baseUrl).toBe(masked);
    await gql.ok(`mutation($id: ID!) { removeUpstreamKey(id: $id) }`, { id: addUpstreamKey.id });
    const entries = await gw.database.db.select().from(auditLog).where(eq(auditLog.targetId, addUpstreamKey.id));
    expect(entries.map((e) => e.action).sort()).toEqual(['addUpstreamKey', 'disableUpstreamKey', 'removeUpstreamKey']);
    const text = JSON.stringify(entries);
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('AQ.secret');
    expect(text).toContain(masked);
  });
});

describe('the upstream host policy', () => {

  it('refuses a base URL whose host is a non-public address when it is saved, naming the range', async () => {
    const gql = graphqlClient(strict.url, strict.adminToken);
    const cases: Array<[string, RegExp]> = [
      [upstream.url, /127\.0\.0\.1 is a loopback address, refused by UPSTREAM_DENY_PRIVATE/],
      ['http://10.0.0.5:8000/v1', /10\.0\.0\.5 is a private address/],
      ['http://169.254.169.254/latest', /link-local/],
      ['http://[::ffff:127.0.0.1]:8000/v1', /loopback/],
      ['http://[fd00::1]/v1', /unique-local/],
      ['http://2130706433/v1', /127\.0\.0\.1 is a loopback address/],
      ['http://localhost:8000/v1', /^Invalid value for 'baseUrl': localhost is a loopback address/],
    ];
    for (const [baseUrl, message] of cases) {
      const res = await gql.request(ADD, { input: { provider: 'openai-compatible', label: 'inward', secret: 'sk-inward-0001', baseUrl } });
      expect(res.errors?.[0]?.extensions, baseUrl).toMatchObject({ code: 'BAD_USER_INPUT', field: 'baseUrl' });
      expect(res.errors?.[0]?.message, baseUrl).toMatch(message);
    }
    // A name is resolved only when a call connects, where the policy is asked again.
    const ok = await gql.ok(ADD, { input: { provider: 'openai-compatible', label: 'named', secret: 'sk-named-0001', baseUrl: 'https://llm.example.com/v1' } });
    expect(ok.addUpstreamKey.baseUrl).toBe('https://llm.example.com/v1');
  });

  it('refuses the connection to a refused address at call time: a clear error, nothing sent, nothing charged', async () => {
    // Saved around the action's check (as a row from before the policy was set would be).
    await liveModel(strict, { id: 'inward', upstreamModel: 'inward', keys: [{ baseUrl: `${upstream.url}` }] });
    const project = await strict.project({ mode: 'live', balance: '10' });
    const before = upstream.requests.length;
    const error = await failure(strict.client(project.secret).chat.completions.create(hello('inward')));
    expect(error.status).toBe(503);
    expect(error.message).toContain("the gateway's upstream host policy refused the connection (UPSTREAM_HOST_REFUSED)");
    expect(error.message).not.toContain('127.0.0.1');
    expect(upstream.requests.length).toBe(before);
    expect(await balanceOf(strict, project.projectId)).toBe('10.000000000000');
    expect(await chargesOf(strict, project.projectId)).toEqual([]);
  });

  it('connects where the allow list lets it, and marks the call with the deployment’s hop mark', async () => {
    const gql = graphqlClient(loopbackAllowed.url, loopbackAllowed.adminToken);
    const outside = await gql.request(ADD, { input: { provider: 'openai-compatible', label: 'x', secret: 'sk-outside-0001', baseUrl: 'http://203.0.113.9/v1' } });
    expect(outside.errors?.[0]?.message).toBe("Invalid value for 'baseUrl': 203.0.113.9 is not in UPSTREAM_HOSTS_ALLOW.");

    await liveModel(loopbackAllowed, { id: 'allowed', upstreamModel: 'allowed', keys: [{ baseUrl: upstream.url }] });
    const project = await loopbackAllowed.project({ mode: 'live', balance: '10' });
    upstream.setScript({ text: 'from the allowed upstream', usage: { input: 10, output: 5 } });
    const res = await loopbackAllowed.client(project.secret).chat.completions.create(hello('allowed'));
    expect(res.choices[0]!.message.content).toBe('from the allowed upstream');
    expect(upstream.requests.at(-1)!.headers[HOP_HEADER]).toBe(loopbackAllowed.gateway.hopMark);
    // 10 × 1/1M + 5 × 2/1M = 0.00002
    expect(await balanceOf(loopbackAllowed, project.projectId)).toBe('9.999980000000');
  });
});

describe('the loop guard', () => {
  let b: TestGateway;
  let replica: TestGateway;
  beforeAll(() => {
    b = loopbackAllowed;
    replica = strict;
  });

  it('answers 508 Loop Detected in OpenAI’s shape to a request carrying its own mark, before authentication', async () => {
    const res = await fetch(`${a.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HOP_HEADER]: `gw_someoneelse, ${a.gateway.hopMark}` },
      body: JSON.stringify(hello('gpt-4o-mini')),
    });
    expect(res.status).toBe(508);
    expect(await res.json()).toEqual({
      error: { message: expect.stringMatching(/^Loop detected: this request was sent by this gateway to itself/), type: 'loop_detected', param: null, code: 508 },
    });
    // Another gateway's mark is no loop: the request goes on to authentication.
    const other = await fetch(`${a.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', [HOP_HEADER]: b.gateway.hopMark }, body: '{}' });
    expect(other.status).toBe(401);
  });

  it('stops a base URL pointing at the gateway itself after one nested call, and charges nothing', async () => {
    const project = await a.project({ mode: 'live', balance: '10' });
    const [keyId] = await liveModel(a, { id: 'self-loop', upstreamModel: 'self-loop', keys: [{ baseUrl: a.baseURL, secret: project.secret }] });
    const hops = countHops(a);
    const error = await failure(a.client(project.secret).chat.completions.create(hello('self-loop')));
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/\(508\): Loop detected: this request was sent by this gateway to itself/);
    expect(hops.nested).toBe(1);
    expect(hops.marks).toEqual([a.gateway.hopMark]);
    // Before the guard the recursion ran until the whole balance was reserved, and the nested 402 disabled the key.
    const [key] = await a.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, keyId!));
    expect(key).toMatchObject({ status: 'active', disabledReason: null });
    expect(await balanceOf(a, project.projectId)).toBe('10.000000000000');
    expect(await chargesOf(a, project.projectId)).toEqual([]);
  });

  it('is one mark per deployment: a replica refuses the call another replica sent it', async () => {
    expect(replica.gateway.hopMark).toBe(a.gateway.hopMark);
    const target = await replica.project({ mode: 'live', balance: '10' });
    const caller = await a.project({ mode: 'live', balance: '10' });
    await liveModel(a, { id: 'to-replica', upstreamModel: 'to-replica', keys: [{ baseUrl: replica.baseURL, secret: target.secret }] });
    const hops = countHops(replica);
    const error = await failure(a.client(caller.secret).chat.completions.create(hello('to-replica')));
    expect(error.message).toMatch(/\(508\): Loop detected/);
    expect(hops.nested).toBe(1);
    expect(await balanceOf(a, caller.projectId)).toBe('10.000000000000');
    expect(await balanceOf(replica, target.projectId)).toBe('10.000000000000');
  });

  it('catches a loop between two deployments when the request comes back to the first, and neither charges', async () => {
    expect(b.gateway.hopMark).not.toBe(a.gateway.hopMark);
    const onA = await a.project({ mode: 'live', balance: '10' });
    const onB = await b.project({ mode: 'live', balance: '10' });
    // a routes the model to b, and b routes it back to a.
    await liveModel(a, { id: 'ping-pong', upstreamModel: 'ping-pong', keys: [{ baseUrl: b.baseURL, secret: onB.secret }] });
    await liveModel(b, { id: 'ping-pong', upstreamModel: 'ping-pong', keys: [{ baseUrl: a.baseURL, secret: onA.secret }] });
    const [hopsA, hopsB] = [countHops(a), countHops(b)];
    const error = await failure(a.client(onA.secret).chat.completions.create(hello('ping-pong')));
    expect(error.status).toBe(503);
    expect(error.message).toContain('Loop detected');
    expect(hopsB.marks).toEqual([a.gateway.hopMark]);
    expect(hopsA.marks).toEqual([`${a.gateway.hopMark}, ${b.gateway.hopMark}`]);
    expect(await balanceOf(a, onA.projectId)).toBe('10.000000000000');
    expect(await balanceOf(b, onB.projectId)).toBe('10.000000000000');
    expect(await chargesOf(a, onA.projectId)).toEqual([]);
    expect(await chargesOf(b, onB.projectId)).toEqual([]);
  });
});
