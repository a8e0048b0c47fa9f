// Who may use /graphql: operator tokens (admin changes, viewer reads), and
// nobody else, over HTTP, SSE and graphql-ws; introspection and GraphiQL open
// in development, operators-only in production; CSRF prevention on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { collect, graphqlClient, wsClient } from './graphql-client.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let viewerToken: string;

beforeAll(async () => {
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
  const created = await gql.ok(`mutation { createAdminToken(name: "dashboards", role: VIEWER) { secret adminToken { id name role prefix } } }`);
  viewerToken = created.createAdminToken.secret;
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

  it('lets a viewer read but refuses every mutation with 403 FORBIDDEN, changing nothing', async () => {
    const read = await gql.ok(`{ me { role } projects(first: 1) { nodes { id } } }`, undefined, { token: viewerToken });
    expect(read.me.role).toBe('VIEWER');
    const before = await gql.ok(`{ projects(filter: {search: "viewer-made"}) { nodes { id } } }`);
    const res = await gql.request(`mutation { createProject(input: {name: "viewer-made"}) { id } }`, undefined, { token: viewerToken });
    expect(res.status).toBe(403);
    expect(res.errors![0]).toMatchObject({ message: expect.stringMatching(/viewer role/), extensions: { code: 'FORBIDDEN' } });
    const after = await gql.ok(`{ projects(filter: {search: "viewer-made"}) { nodes { id } } }`);
    expect(after.projects.nodes).toEqual(before.projects.nodes);
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

  it('lets anyone introspect in development', async () => {
    const res = await gql.request(`{ __schema { queryType { name } } }`, undefined, { token: null });
    expect(res.errors).toBeUndefined();
    expect(res.data!.__schema.queryType.name).toBe('Query');
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

  it('serves GraphiQL to a browser at /graphql', async () => {
    const res = await fetch(`${gw.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/GraphiQL|graphiql/);
  });

  it('refuses queries nested too deep', async () => {
    const deep = `{ apiKeys { nodes { project { apiKeys { project { apiKeys { project { apiKeys { project { apiKeys { id } } } } } } } } } } }`;
    const res = await gql.request(deep);
    expect(res.errors![0]).toMatchObject({ message: expect.stringMatching(/nests deeper than 10 levels/), extensions: { code: 'QUERY_TOO_COMPLEX' } });
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

  it('serves introspection and GraphiQL to operators only', async () => {
    const client = graphqlClient(prod.url, prod.adminToken);
    const anonymous = await client.request(`{ __schema { queryType { name } } }`, undefined, { token: null });
    expect(anonymous.status).toBe(401);
    expect((await client.ok(`{ __schema { queryType { name } } }`)).__schema.queryType.name).toBe('Query');

    const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    const operatorPage = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html', authorization: `Bearer ${prod.adminToken}` } });
    expect(operatorPage.headers.get('content-type')).toMatch(/text\/html/);
  });
});
