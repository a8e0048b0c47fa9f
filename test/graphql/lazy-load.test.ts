// The GraphQL stack is loaded on the first /graphql request, not at start;
// a graphql-ws connection that is the very first contact works (its
// connection_init arrives while the handler is still loading and is replayed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { collect, graphqlClient, wsClient } from './graphql-client.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

describe('the admin API loaded on first use', () => {
  it('answers a graphql-ws query as the first request to /graphql, then HTTP', async () => {
    const client = wsClient(gw.url, { authorization: `Bearer ${gw.adminToken}` });
    const me = collect(client, `{ me { name role } }`);
    expect((await me.next()).data).toEqual({ me: { name: 'ADMIN_TOKEN', role: 'ADMIN' } });
    await client.dispose();
    const data = await graphqlClient(gw.url, gw.adminToken).ok(`{ me { role } }`);
    expect(data.me).toEqual({ role: 'ADMIN' });
  });
});
