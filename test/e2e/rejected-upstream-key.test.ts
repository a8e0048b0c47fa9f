// A key its upstream rejects (401/403) leaves the pool through the same
// audited action as an operator's disable: the audit log names the gateway,
// with the key before and after, and the pool stops using it.
import { expect, it } from 'vitest';
import { startOpenAIEmulator } from '../emulators/index.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { liveModel } from '../helpers/live-routes.js';
import { useUpstream } from '../helpers/use-upstreams.js';
import { errorOf } from './provider-support.js';

const up = useUpstream(startOpenAIEmulator);

it('disables a rejected key through the audited action, naming the gateway as the actor', async () => {
  const [keyId] = await liveModel(up.gw, { id: 'rejected-emu', upstreamModel: 'rejected-emu', keys: [{ baseUrl: up.emulator.url }] });
  const p = await up.gw.project({ mode: 'live' });
  up.emulator.enqueue({ status: 401 });
  await errorOf(up.gw.client(p.secret).chat.completions.create({ model: 'rejected-emu', messages: [{ role: 'user', content: 'hi' }] }));

  const gql = graphqlClient(up.gw.url, up.gw.adminToken);
  const keyState = async () => (await gql.ok(`query($id: ID!) { upstreamKey(id: $id) { status disabledReason } }`, { id: keyId })).upstreamKey;
  await expect.poll(async () => (await keyState()).status).toBe('DISABLED');
  expect((await keyState()).disabledReason).toMatch(/401/);

  const log = await gql.ok(`query($id: ID!) { auditLog(filter: {targetId: $id}) { nodes { actor action targetType before after } } }`, { id: keyId });
  expect(log.auditLog.nodes).toEqual([
    {
      actor: 'gateway',
      action: 'disableUpstreamKey',
      targetType: 'upstream-key',
      before: expect.objectContaining({ id: keyId, status: 'active', disabledReason: null }),
      after: expect.objectContaining({ id: keyId, status: 'disabled', disabledReason: expect.stringMatching(/401/) }),
    },
  ]);
  // The pool this replica routes from drops it.
  await expect.poll(() => up.gw.gateway.pool.keysFor('openai', 'rejected-emu').map((k) => k.id)).toEqual([]);
});
