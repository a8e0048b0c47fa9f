// Two gateway replicas on one Postgres (as behind a load balancer): an
// operator subscribed on either sees what the other serves, and a change made
// through either reaches the other's hot path with its event. Over Postgres
// LISTEN/NOTIFY, and over Redis pub/sub when a test Redis is configured.
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus, GatewayEvents, Topic } from '../../src/core/events/event-bus.js';
import { PgEventBus } from '../../src/core/events/pg-event-bus.js';
import { RedisEventBus } from '../../src/core/events/redis-event-bus.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { collect, graphqlClient, wsClient } from './graphql-client.js';
import { nextSubscriber } from './subscriber-ready.js';

function nextEvent<T extends Topic>(bus: EventBus, topic: T, accept: (e: GatewayEvents[T]) => boolean): Promise<GatewayEvents[T]> {
  return new Promise((resolve) => {
    const off = bus.subscribe(topic, (e) => {
      if (!accept(e)) return;
      off();
      resolve(e);
    });
  });
}

const redisUrl = process.env.TEST_REDIS_URL;
// Runs whenever a Postgres server is configured, in whichever vitest project
// includes this file: the replicas share a database this file creates and drops.
const hasPostgres = !!process.env.DATABASE_URL;

for (const transport of ['postgres', 'redis'] as const) {
  describe.skipIf(!hasPostgres || (transport === 'redis' && !redisUrl))(`two replicas on one Postgres, events over ${transport}`, () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let one: TestGateway;
    let two: TestGateway;
    beforeAll(async () => {
      database = await createTestDatabase();
      const shared = { databaseUrl: database.url, encryptionKey: randomBytes(32).toString('hex'), ...(transport === 'redis' ? { env: { REDIS_URL: redisUrl! } } : {}) };
      one = await startGateway(shared);
      two = await startGateway(shared);
      expect(one.gateway.bus).toBeInstanceOf(transport === 'redis' ? RedisEventBus : PgEventBus);
    });
    afterAll(async () => {
      await two?.close();
      await one?.close();
      await database?.drop();
    });

    it('a usage subscriber on one replica sees the requests served by the other', async () => {
      const { secret, projectId } = await one.project();
      const client = wsClient(two.url, { authorization: `Bearer ${one.adminToken}` });
      const ready = nextSubscriber(two.gateway.bus, 'usage');
      const feed = collect(client, `subscription($p: ID) { usage(projectId: $p) { requestId projectId model status } }`, { p: projectId });
      await ready;
      const res = await one.client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'from replica one' }] }).withResponse();
      const event = await feed.next();
      expect(event.data!.usage).toEqual({ requestId: res.response.headers.get('x-request-id'), projectId, model: 'gpt-4o-mini', status: 'OK' });
      await client.dispose();
    });

    it('a key revoked through one replica is refused by the other as soon as the revocation reaches it', async () => {
      const { secret, keyId } = await one.project();
      const onTwo = two.client(secret);
      await onTwo.models.list(); // replica two now holds the key in its cache
      const invalidated = nextEvent(two.gateway.bus, 'invalidate', (e) => e.kind === 'api-key' && e.id === keyId);
      await graphqlClient(one.url, one.adminToken).ok(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: keyId });
      // No time bound: the event is the propagation. A cache that waited for a TTL instead would still let the key in here.
      await invalidated;
      const err = await onTwo.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as Error).message).toMatch(/revoked/);
    });

    it('model permissions set through one replica apply on the other', async () => {
      const { secret, projectId } = await two.project({ models: ['gpt-4o-mini'] });
      const onTwo = two.client(secret);
      expect((await onTwo.models.list()).data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
      const invalidated = nextEvent(two.gateway.bus, 'invalidate', (e) => e.kind === 'permissions' && e.projectId === projectId);
      await graphqlClient(one.url, one.adminToken).ok(`mutation($p: ID!) { setModelPermissions(projectId: $p, models: ["gemini-2.0-flash"]) { id } }`, { p: projectId });
      await invalidated;
      expect((await onTwo.models.list()).data.map((m) => m.id)).toEqual(['gemini-2.0-flash']);
    });

    it('a balance subscriber on one replica sees a credit made through the other', async () => {
      const { projectId } = await one.project({ balance: '3' });
      const client = wsClient(one.url, { token: one.adminToken });
      const feed = collect(client, `subscription($p: ID!) { balance(projectId: $p) { balance } }`, { p: projectId });
      expect((await feed.next()).data).toEqual({ balance: { balance: '3' } });
      await graphqlClient(two.url, one.adminToken).ok(`mutation($p: ID!) { creditBalance(projectId: $p, amount: "4", reason: "via two") { balance } }`, { p: projectId });
      expect((await feed.next()).data).toEqual({ balance: { balance: '7' } });
      await client.dispose();
    });
  });
}
