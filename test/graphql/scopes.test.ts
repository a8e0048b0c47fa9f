// The schema's own scopes (builder.ts, schema/root.ts), executed without the
// transport's gate in front: any operator reads, only an admin changes, and
// nobody without an operator token gets anything, subscriptions included.
import { execute, parse, subscribe } from 'graphql/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/core/admin/admin-tokens.js';
import type { GraphQLContext } from '../../src/graphql/context.js';
import { schema } from '../../src/graphql/schema/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const admin: Operator = { tokenId: 'adm_scopes', name: 'scopes-admin', role: 'admin' };
const viewer: Operator = { tokenId: 'adm_viewer', name: 'scopes-viewer', role: 'viewer' };

function run(source: string, operator: Operator | null) {
  const contextValue: GraphQLContext = { gateway: gw.gateway, operator, shutdown: new AbortController().signal, healthHeartbeatMs: 10_000 };
  return execute({ schema, document: parse(source), contextValue }) as Promise<{ data?: Record<string, any> | null; errors?: readonly { message: string; extensions: Record<string, unknown> }[] }>;
}

const projectNamed = async (name: string) => {
  const found = await run(`{ projects(filter: {search: "${name}"}) { nodes { name } } }`, admin);
  return found.data!.projects.nodes as Array<{ name: string }>;
};

describe('scopes on the root types', () => {
  it('refuse a viewer’s mutation field by field, before its resolver writes anything', async () => {
    const res = await run(`mutation { createProject(input: {name: "scoped-by-viewer"}) { id } }`, viewer);
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(/"scopes-viewer" has the viewer role/), extensions: { code: 'FORBIDDEN' } });
    expect(res.data).toEqual({ createProject: null });
    expect(await projectNamed('scoped-by-viewer')).toEqual([]);
  });

  it('let an admin change, acting as itself', async () => {
    const res = await run(`mutation { createProject(input: {name: "scoped-by-admin"}) { id } }`, admin);
    expect(res.errors).toBeUndefined();
    const log = await run(`{ auditLog(filter: {targetId: "${res.data!.createProject.id}"}) { nodes { actor action } } }`, admin);
    expect(log.data!.auditLog.nodes).toEqual([{ actor: 'scopes-admin', action: 'createProject' }]);
  });

  it('let a viewer read, and refuse reads without an operator', async () => {
    expect((await run(`{ me { name role } }`, viewer)).data).toEqual({ me: { name: 'scopes-viewer', role: 'VIEWER' } });
    for (const source of [`{ me { name } }`, `{ projects { nodes { id } } }`, `{ upstreamKeys { id } }`]) {
      const res = await run(source, null);
      expect(res.errors?.[0], source).toMatchObject({ message: expect.stringMatching(/operator token is required/), extensions: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('refuse a subscription without an operator when it is created', async () => {
    const contextValue: GraphQLContext = { gateway: gw.gateway, operator: null, shutdown: new AbortController().signal, healthHeartbeatMs: 10_000 };
    const res = (await subscribe({ schema, document: parse(`subscription { usage { requestId } }`), contextValue })) as { errors?: readonly { extensions: Record<string, unknown> }[] };
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
