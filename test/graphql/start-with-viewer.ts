import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

/** A gateway, a GraphQL client on its admin token, and the secret of a new viewer token named `viewerName`. */
export async function startWithViewer(viewerName: string): Promise<{ gw: TestGateway; gql: ReturnType<typeof graphqlClient>; viewerToken: string }> {
  const gw = await startGateway();
  const gql = graphqlClient(gw.url, gw.adminToken);
  const created = await gql.ok(`mutation($name: String!) { createAdminToken(name: $name, role: VIEWER) { secret } }`, { name: viewerName });
  return { gw, gql, viewerToken: created.createAdminToken.secret };
}
