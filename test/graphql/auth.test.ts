// Who may use /graphql: operator tokens (admin changes, viewer reads), and
// nobody else, over HTTP, SSE and graphql-ws; introspection included, in
// every mode; no GraphiQL page; CSRF prevention on.
import { type GraphQLInputType, getNamedType, isEnumType, isInputObjectType, isLeafType, isListType, isNonNullType } from 'graphql/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { collect, graphqlClient, wsClient } from './graphql-client.js';
import { startWithViewer } from './start-with-viewer.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let viewerToken: string;

beforeAll(async () => {
  ({ gw, gql, viewerToken } = await startWithViewer('dashboards'));
});
afterAll(async () => gw?.close());

const PROJECTS = `{ projects(first: 5) { nodes { id } } }`;

describe('over HTTP', () => {
  it('answers an admin token, and says who it is', async () => {
    const data = await gql.ok(`{ me { name role } }`);
    expect(data.me).toEqual({ name: 'ADMIN_TOKEN', role: 'ADMIN' });
  });

  it('refuses a request without a token with 401 UNAUTHENTICATED, before looking at the query', async () => {
    const res = await gql.request(PROJECTS, undefined, { token: null });
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(res.errors![0]!.message).toMatch(/operator token is required/);
    // A misspelt field is not even validated for an anonymous caller: no schema hints leak.
    const typo = await gql.request(`{ projectz { id } }`, undefined, { token: null });
    expect(typo.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an unknown token with 401 and a project key with 403', async () => {
    const bad = await gql.request(PROJECTS, undefined, { token: 'gwa_not-a-real-token-at-all-000000' });
    expect(bad.status).toBe(401);
    expect(bad.errors![0]).toMatchObject({ message: expect.stringMatching(/not valid/), extensions: { code: 'UNAUTHENTICATED' } });

    const { secret } = await gw.project();
    const projectKey = await gql.request(PROJECTS, undefined, { token: secret });
    expect(projectKey.status).toBe(403);
    expect(projectKey.errors![0]).toMatchObject({ message: expect.stringMatching(/Project API keys cannot use the admin API/), extensions: { code: 'FORBIDDEN' } });
    expect(projectKey.data ?? null).toBeNull();
  });

  it('lets a viewer read but refuses every mutation of the schema with 403 FORBIDDEN, changing nothing', async () => {
    const read = await gql.ok(`{ me { role } projects(first: 1) { nodes { id } } }`, undefined, { token: viewerToken });
    expect(read.me.role).toBe('VIEWER');

    // Real targets, so that each mutation would go through for an admin.
    const { projectId, keyId } = await gw.project();
    const upstream = await gql.ok(`mutation { addUpstreamKey(input: {provider: "openai", label: "viewer-target", secret: "sk-viewer-target-0000"}) { id } }`);
    const tokens = await gql.ok(`{ adminTokens { id name } }`);
    const ids: Record<string, string> = {
      ApiKey: keyId,
      UpstreamKey: upstream.addUpstreamKey.id,
      AdminToken: tokens.adminTokens.find((t: { name: string }) => t.name === 'dashboards').id,
      Model: 'gpt-4o-mini',
      Project: projectId,
    };
    const idFor = (mutation: string, arg: string) => {
      if (arg === 'projectId') return projectId;
      const target = Object.keys(ids).find((name) => mutation.endsWith(name));
      return target ? ids[target]! : projectId;
    };
    // A valid literal for each argument type: the request passes validation and reaches the role check.
    const literal = (type: GraphQLInputType, mutation: string, arg: string): string => {
      if (isNonNullType(type)) return literal(type.ofType, mutation, arg);
      if (isListType(type)) return `[${literal(type.ofType, mutation, arg)}]`;
      if (isEnumType(type)) return type.getValues()[0]!.name;
      if (isInputObjectType(type)) {
        const required = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
        return `{${required.map((f) => `${f.name}: ${literal(f.type, mutation, f.name)}`).join(', ')}}`;
      }
      const scalars: Record<string, string> = { ID: JSON.stringify(idFor(mutation, arg)), Int: '1', Float: '1', Boolean: 'true', Decimal: '"1"', DateTime: '"2099-01-01T00:00:00Z"', JSON: '"{}"' };
      return scalars[type.name] ?? '"viewer-made"';
    };

    const audited = async () => (await gql.ok(`{ auditLog(first: 200) { nodes { id } } }`)).auditLog.nodes.length;
    const auditedBefore = await audited();
    const mutations = Object.values(schema.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(15);
    for (const field of mutations) {
      const args = field.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${literal(a.type, field.name, a.name)}`);
      const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
      const res = await gql.request(`mutation { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`, undefined, { token: viewerToken });
      expect(res.errors?.[0], field.name).toMatchObject({ message: expect.stringMatching(/viewer role/), extensions: { code: 'FORBIDDEN' } });
      expect(res.status, field.name).toBe(403);
      expect(res.data ?? null, field.name).toBeNull();
    }
    // Every change an operator makes is audited: none was.
    expect(await audited()).toBe(auditedBefore);
  });

  it('stops accepting a revoked operator token at once, and never revokes the last admin token', async () => {
    const { createAdminToken } = await gql.ok(`mutation { createAdminToken(name: "temp", role: ADMIN) { secret adminToken { id } } }`);
    const temp = createAdminToken.secret as string;
    expect((await gql.ok(`{ me { name } }`, undefined, { token: temp })).me.name).toBe('temp');
    await gql.ok(`mutation($id: ID!) { revokeAdminToken(id: $id) { revokedAt } }`, { id: createAdminToken.adminToken.id });
    const res = await gql.request(`{ me { name } }`, undefined, { token: temp });
    expect(res.status).toBe(401);

    const tokens = await gql.ok(`{ adminTokens { id name role revokedAt } }`);
    const self = tokens.adminTokens.find((t: { name: string }) => t.name === 'ADMIN_TOKEN');
    const refused = await gql.request(`mutation($id: ID!) { revokeAdminToken(id: $id) { id } }`, { id: self.id });
    expect(refused.errors![0]).toMatchObject({ message: expect.stringMatching(/last active admin token/), extensions: { code: 'BAD_USER_INPUT' } });
    expect((await gql.ok(`{ me { name } }`)).me.name).toBe('ADMIN_TOKEN');
  });

  it('refuses anonymous introspection outside production too (NODE_ENV unset)', async () => {
    const res = await gql.request(`{ __schema { queryType { name } } }`, undefined, { token: null });
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect((await gql.ok(`{ __schema { queryType { name } } }`)).__schema.queryType.name).toBe('Query');
  });

  it('requires the CSRF header on GET requests, which a browser could send cross-site without a preflight', async () => {
    const url = `${gw.url}/graphql?query=${encodeURIComponent('{ me { name } }')}`;
    const headers = { authorization: `Bearer ${gw.adminToken}`, accept: 'application/json' };
    const without = await fetch(url, { headers });
    expect(without.status).toBe(403);
    expect(JSON.stringify(await without.json())).toMatch(/CSRF/);
    const withHeader = await fetch(url, { headers: { ...headers, 'x-graphql-yoga-csrf': '1' } });
    expect(withHeader.status).toBe(200);
    expect(await withHeader.json()).toEqual({ data: { me: { name: 'ADMIN_TOKEN' } } });
  });

  it('serves no GraphiQL page, to an operator either (yoga’s would load its scripts from a CDN)', async () => {
    for (const headers of [{ accept: 'text/html' }, { accept: 'text/html', authorization: `Bearer ${gw.adminToken}` }] as Record<string, string>[]) {
      const res = await fetch(`${gw.url}/graphql`, { headers });
      expect(res.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
      expect(await res.text()).not.toMatch(/graphiql/i);
    }
  });
});

describe('over graphql-ws', () => {
  const closeCode = async (params: Record<string, unknown> | undefined) => {
    const client = wsClient(gw.url, params);
    const sub = collect(client, `subscription { usage { requestId } }`);
    const err = await sub.next(5_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    await client.dispose();
    return (err as { code?: number } | undefined)?.code;
  };

  it('closes a connection without a token with 4401', async () => {
    expect(await closeCode(undefined)).toBe(4401);
  });

  it('closes a connection with an invalid token or a project key with 4403', async () => {
    expect(await closeCode({ authorization: 'Bearer gwa_wrong-token-0000000000000000' })).toBe(4403);
    const { secret } = await gw.project();
    expect(await closeCode({ authorization: `Bearer ${secret}` })).toBe(4403);
  });

  it('accepts the token as connectionParams.authorization or .token, and refuses a viewer’s mutation', async () => {
    for (const params of [{ authorization: `Bearer ${viewerToken}` }, { token: viewerToken }]) {
      const client = wsClient(gw.url, params);
      const me = collect(client, `{ me { role } }`);
      expect((await me.next()).data).toEqual({ me: { role: 'VIEWER' } });
      const mutation = collect(client, `mutation { createProject(input: {name: "over-ws"}) { id } }`);
      const result = await mutation.next();
      expect((result.errors as Array<{ extensions: { code: string } }>)[0]!.extensions.code).toBe('FORBIDDEN');
      await client.dispose();
    }
  });
});

describe('in production', () => {
  let prod: TestGateway;
  beforeAll(async () => {
    prod = await startGateway({ env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => prod?.close());

  it('serves introspection to operators only, and GraphiQL to nobody', async () => {
    const client = graphqlClient(prod.url, prod.adminToken);
    const anonymous = await client.request(`{ __schema { queryType { name } } }`, undefined, { token: null });
    expect(anonymous.status).toBe(401);
    expect((await client.ok(`{ __schema { queryType { name } } }`)).__schema.queryType.name).toBe('Query');

    const operatorPage = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html', authorization: `Bearer ${prod.adminToken}` } });
    expect(operatorPage.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
  });
});
