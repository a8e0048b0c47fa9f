// What one GraphQL operation may cost: refused before it runs, naming the
// limit, on HTTP and graphql-ws, introspection included; what the console
// and GraphQL tools send still passes.
import { getIntrospectionQuery } from 'graphql/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS } from '../../src/graphql/use-query-limits.js';
import { CONSOLE_QUERY } from '../../src/web/console/queries.js';
import type { TestGateway } from '../helpers/start-gateway.js';
import { collect, type GraphQLResult, type graphqlClient, wsClient } from './graphql-client.js';
import { startWithViewer } from './start-with-viewer.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let viewerToken: string;

beforeAll(async () => {
  ({ gw, gql, viewerToken } = await startWithViewer('cost-viewer'));
  await gw.project(); // a project, a key: the console query has rows to walk
});
afterAll(async () => gw?.close());

const aliases = (n: number, body: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${body}`).join(' ')} }`;

/** The issue's amplification: 1,000 copies of a big introspection answer (45 MB, 4.4 s of blocked event loop before). */
const INTROSPECTION_X1000 = aliases(1_000, `__schema { types { name fields { name args { name } type { name } } } }`);
/** 300 pages of 200 usage rows (10.5 s before). */
const USAGE_300_X_200 = aliases(300, `usageRecords(first: 200) { nodes { requestId } }`);

/**
 * Sends the query once to warm the path up, then five times. What counts
 * is the work the process (server and client, one process here) does for
 * the fastest of the five, in CPU time: wall-clock time on a machine other
 * test runs share measures the scheduler more than the gateway.
 */
async function refusedQuickly(query: string, token: string | null) {
  const rssBefore = process.memoryUsage().rss;
  let result = await gql.request(query, undefined, { token });
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const cpu = process.cpuUsage();
    result = await gql.request(query, undefined, { token });
    const used = process.cpuUsage(cpu);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return { result, ms: best, rssGrowth: process.memoryUsage().rss - rssBefore };
}

const MB = 1024 * 1024;
/**
 * Answering the 1,000-alias introspection took over 300 MB of RSS; a refusal
 * takes next to none, but the test process shares its RSS with the gateway,
 * its clients and whatever else the file's workers allocate meanwhile.
 */
const RSS_BOUND = 64 * MB;

/** 25 fields of a usage row: a page of 200 costs 1 + 200 × (1 + 25) = 5,201. */
const ROW = 'requestId model provider cost promptTokens completionTokens cachedTokens reasoningTokens status createdAt settledAt latencyMs ttftMs httpStatus errorCode attempts stream test apiKeyId projectId upstreamKeyId upstreamModel inputPrice outputPrice reservedCost';
const TEN_PAGES = `query Pages($n: Int) ${aliases(10, `usageRecords(first: $n) { nodes { ${ROW} } }`)}`;

describe('the issue’s two amplifications', () => {
  beforeAll(async () => {
    await gql.ok(`{ me { name } }`); // the GraphQL stack loads on the first request: not part of what is measured
  });

  it('refuses 1,000 aliased introspections from an anonymous caller in under 50 ms of CPU, RSS unchanged', async () => {
    const { result, ms, rssGrowth } = await refusedQuickly(INTROSPECTION_X1000, null);
    expect(result.status).toBe(401);
    expect(result.data ?? null).toBeNull();
    expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(ms).toBeLessThan(50);
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
  });

  it('refuses them from a viewer token in under 50 ms of CPU, RSS unchanged, naming the limit', async () => {
    const { result, ms, rssGrowth } = await refusedQuickly(INTROSPECTION_X1000, viewerToken);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: DEFAULT_QUERY_LIMITS.maxTokens } });
    expect(result.errors![0]!.message).toMatch(/more than 1000 tokens/);
    expect(ms).toBeLessThan(50);
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
  });

  it('refuses 300 aliases of usageRecords(first: 200) in under 50 ms of CPU, RSS unchanged', async () => {
    const { result, ms, rssGrowth } = await refusedQuickly(USAGE_300_X_200, viewerToken);
    expect(result.data ?? null).toBeNull();
    expect(result.errors![0]!.extensions!.code).toBe('QUERY_TOO_COMPLEX');
    expect(ms).toBeLessThan(50);
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
  });
});

describe('each limit, named in the error', () => {
  const refusedBy = async (query: string, variables?: Record<string, unknown>) => {
    const res = await gql.request(query, variables);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toBeDefined();
    const error = res.errors!.find((e) => e.extensions?.['code'] === 'QUERY_TOO_COMPLEX');
    expect(error, JSON.stringify(res.errors)).toBeDefined();
    return error!;
  };

  it('prices pages by their size, variables included: 10 pages of 200 rows are refused, 10 of 20 pass', async () => {
    const error = await refusedBy(TEN_PAGES, { n: 200 });
    expect(error).toMatchObject({ extensions: { limit: 'cost', max: DEFAULT_QUERY_LIMITS.maxCost } });
    expect(error.message).toMatch(/would cost 52010; at most 50000/);
    const small = await gql.request(TEN_PAGES, { n: 20 });
    expect(small.errors).toBeUndefined();
    expect(small.data!['a9'].nodes).toEqual([]);
  });

  it('counts depth with introspection included, fragments flattened', async () => {
    let nested = 'id';
    for (let i = 0; i < 6; i++) nested = `apiKeys { project { ${nested} } }`;
    const error = await refusedBy(`{ apiKeys { nodes { project { ${nested} } } } }`);
    expect(error).toMatchObject({ message: 'Query depth limit of 15 exceeded, found 16.', extensions: { limit: 'depth' } });

    let meta = 'name';
    for (let i = 0; i < 8; i++) meta = `ofType { ${meta} }`;
    const deepIntrospection = await refusedBy(`{ __schema { types { fields { type { fields { type { fields { type { ${meta} } } } } } } } } }`);
    expect(deepIntrospection.extensions).toMatchObject({ limit: 'depth' });
  });

  it('counts aliases, root fields and directives', async () => {
    expect((await refusedBy(aliases(16, 'me { name }'))).extensions).toMatchObject({ limit: 'aliases', max: 15 });
    const roots = '{ me { name } adminTokens { id } projects { nodes { id } } apiKeys { nodes { id } } auditLog { nodes { id } } ledgerEntries { nodes { id } } models { id } providers { provider } providerHealth { state } upstreamKeys { id } usageSummary { requests } }';
    expect((await refusedBy(roots)).extensions).toMatchObject({ limit: 'rootFields', max: 10 });
    const directives = `{ me { ${Array.from({ length: 21 }, () => 'name @include(if: true)').join(' ')} } }`;
    expect((await refusedBy(directives)).extensions).toMatchObject({ limit: 'directives', max: 20 });
  });

  it('allows one introspection per operation, without aliases inside it', async () => {
    expect((await refusedBy(`{ __schema { queryType { name } } __type(name: "Query") { name } }`)).extensions).toMatchObject({ limit: 'introspection' });
    expect((await refusedBy(`{ __schema { a: types { name } b: types { name } } }`)).extensions).toMatchObject({ limit: 'introspection' });
  });
});

describe('what operators send still passes', () => {
  it('answers the console’s own query', async () => {
    const data = await gql.ok(CONSOLE_QUERY, undefined, { token: viewerToken });
    expect(data.projects.nodes.length).toBeGreaterThan(0);
  });

  it('answers the standard introspection query that GraphQL tools send', async () => {
    const data = await gql.ok(getIntrospectionQuery(), undefined, { token: viewerToken });
    expect(data.__schema.queryType.name).toBe('Query');
  });
});

describe('over server-sent events', () => {
  it('refuses a subscription over a limit before it starts', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${viewerToken}` },
      body: JSON.stringify({ query: `subscription { usage { ${Array.from({ length: 16 }, (_, i) => `a${i}: requestId`).join(' ')} } }` }),
    });
    // The refusal is the stream's only event; the stream then ends.
    const text = await res.text();
    expect(text).toMatch(/"code":"QUERY_TOO_COMPLEX"/);
    expect(text).toMatch(/"limit":"aliases"/);
  });
});

describe('over graphql-ws', () => {
  /** graphql-ws answers a refused document with an `error` message: the subscription ends with the errors. */
  const refusal = async (client: ReturnType<typeof wsClient>, query: string, variables?: Record<string, unknown>) => {
    const ended = await collect(client, query, variables)
      .next()
      .then(
        (result) => result.errors,
        (errors: unknown) => errors,
      );
    return (ended as GraphQLResult['errors'])![0];
  };

  it('refuses the same documents with the same errors, and keeps the socket open', async () => {
    const client = wsClient(gw.url, { authorization: `Bearer ${viewerToken}` });
    try {
      expect(await refusal(client, INTROSPECTION_X1000)).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'tokens' } });
      expect(await refusal(client, aliases(16, 'me { name }'))).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'aliases' } });
      expect(await refusal(client, TEN_PAGES, { n: 200 })).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'cost' } });
      const page = await collect(client, TEN_PAGES, { n: 20 }).next();
      expect(page.errors).toBeUndefined();
      const me = await collect(client, '{ me { role } }').next();
      expect(me.data).toEqual({ me: { role: 'VIEWER' } });
    } finally {
      await client.dispose();
    }
  });
});
