// A NUL in a read argument (an id, a filter) reached SQL and came back as
// INTERNAL_SERVER_ERROR: Postgres refuses NUL in text. It is bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
});
afterAll(() => gw?.close());

describe('a NUL in a GraphQL argument', () => {
  it.each([
    ['project(id) as a literal', 'query { project(id: "prj_\\u0000x") { id } }', undefined, 'id'],
    ['apiKey(id) as a variable', 'query ($id: ID!) { apiKey(id: $id) { id } }', { id: 'key_\u0000' }, 'id'],
    ['model(id) as a variable', 'query ($id: ID!) { model(id: $id) { id } }', { id: 'm\u0000' }, 'id'],
    ['a nested filter', 'query ($f: ProjectFilter) { projects(filter: $f) { edges { node { id } } } }', { f: { search: 'a\u0000' } }, 'f.search'],
  ])('%s is refused as BAD_USER_INPUT naming the field', async (_name, query, variables, field) => {
    const result = await gql.request(query, variables);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('other arguments still work, line breaks in free text included', async () => {
    const result = await gql.request('query ($id: ID!) { project(id: $id) { id } }', { id: 'prj_does_not_exist\nreally' });
    expect(result.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('INTERNAL_SERVER_ERROR');
    expect(result.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('BAD_USER_INPUT');
  });
});
