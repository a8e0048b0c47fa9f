// The cross-replica event buses: local delivery first, every other bus on the
// same Postgres (LISTEN/NOTIFY) or Redis channel gets the event once, no bus
// hears its own echo, oversized payloads are guarded, close() ends connections.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus, GatewayEvents, Topic, UsageEvent } from '../../src/core/events/event-bus.js';
import { PgEventBus } from '../../src/core/events/pg-event-bus.js';
import { RedisEventBus } from '../../src/core/events/redis-event-bus.js';
import { decodeWireEvent, encodeWireEvent, fitWireEvent, MAX_WIRE_BYTES } from '../../src/core/events/wire-event.js';
import { createTestDatabase } from '../helpers/test-database.js';

// Whenever a Postgres server is configured, whatever the vitest project.
const hasPostgres = !!process.env.DATABASE_URL;

const usage = (requestId: string): UsageEvent => ({
  requestId,
  projectId: 'prj_1',
  apiKeyId: 'key_1',
  model: 'gpt-4o-mini',
  provider: 'openai',
  upstreamKeyId: null,
  status: 'ok',
  httpStatus: 200,
  promptTokens: 1,
  completionTokens: 2,
  cachedTokens: 0,
  reasoningTokens: 0,
  cost: '0.1',
  latencyMs: 5,
  ttftMs: null,
  stream: false,
  test: false,
  createdAt: new Date().toISOString(),
});

function nextEvent<T extends Topic>(bus: EventBus, topic: T, accept: (e: GatewayEvents[T]) => boolean = () => true): Promise<GatewayEvents[T]> {
  return new Promise((resolve) => {
    const off = bus.subscribe(topic, (e) => {
      if (!accept(e)) return;
      off();
      resolve(e);
    });
  });
}

describe('wire format', () => {
  it('round-trips an event and refuses anything malformed', () => {
    const text = encodeWireEvent('o1', 'invalidate', { kind: 'api-key', id: 'key_1' });
    expect(decodeWireEvent(text)).toEqual({ origin: 'o1', topic: 'invalidate', payload: { kind: 'api-key', id: 'key_1' } });
    for (const bad of ['', 'nope', '[]', '{"origin":"o","topic":"secrets","payload":{}}', '{"origin":1,"topic":"usage","payload":{}}', '{"origin":"o","topic":"usage","payload":null}']) {
      expect(decodeWireEvent(bad)).toBeUndefined();
    }
  });

  it('keeps a NOTIFY payload under 8000 bytes: a long health error is cut, anything else too large is refused', () => {
    const health = { upstreamKeyId: 'upk_1', provider: 'openai', state: 'down', at: new Date().toISOString(), lastError: 'x'.repeat(20_000) };
    const fitted = fitWireEvent('o', 'health', health)!;
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(MAX_WIRE_BYTES);
    expect(decodeWireEvent(fitted)!.payload).toMatchObject({ upstreamKeyId: 'upk_1', state: 'down', lastError: '(too long to relay)' });
    expect(fitWireEvent('o', 'usage', { ...usage('r'), model: 'm'.repeat(9_000) })).toBeUndefined();
    const small = usage('r');
    expect(fitWireEvent('o', 'usage', small)).toBe(encodeWireEvent('o', 'usage', small));
  });
});

function busContract(name: string, skip: boolean, open: () => Promise<EventBus>) {
  describe.skipIf(skip)(name, () => {
    let a: EventBus;
    let b: EventBus;
    beforeAll(async () => {
      a = await open();
      b = await open();
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('delivers locally at once and to the other bus once, never echoing back', async () => {
      const localSeen: string[] = [];
      const offLocal = a.subscribe('usage', (e) => localSeen.push(e.requestId));
      const remote = nextEvent(b, 'usage', (e) => e.requestId === 'r-1');
      a.publish('usage', usage('r-1'));
      expect(localSeen).toEqual(['r-1']); // synchronous: before any network round trip
      expect(await remote).toMatchObject({ requestId: 'r-1', cost: '0.1' });
      // A marker sent after r-1 from b to a: once it arrives, any echo of r-1 would have too.
      const marker = nextEvent(a, 'invalidate');
      b.publish('invalidate', { kind: 'catalogue' });
      await marker;
      expect(localSeen).toEqual(['r-1']);
      offLocal();
    });

    it('keeps events in order between two buses', async () => {
      const seen: string[] = [];
      const done = new Promise<void>((resolve) => {
        const off = b.subscribe('invalidate', (e) => {
          if (e.kind !== 'api-key') return;
          seen.push(e.id);
          if (seen.length === 20) {
            off();
            resolve();
          }
        });
      });
      const ids = Array.from({ length: 20 }, (_, i) => `key_${i}`);
      for (const id of ids) a.publish('invalidate', { kind: 'api-key', id });
      await done;
      expect(seen).toEqual(ids);
    });

    it('delivers an oversized event locally and does not throw', () => {
      const seen: string[] = [];
      const off = a.subscribe('usage', (e) => seen.push(e.requestId));
      expect(() => a.publish('usage', { ...usage('big'), model: 'm'.repeat(9_000) })).not.toThrow();
      expect(seen).toEqual(['big']);
      off();
    });
  });
}

let pg: { url: string; drop(): Promise<void> } | undefined;
beforeAll(async () => {
  if (hasPostgres) pg = await createTestDatabase();
});
afterAll(async () => pg?.drop());

busContract('PgEventBus (LISTEN/NOTIFY)', !hasPostgres, () => PgEventBus.connect({ url: pg!.url }));

const redisUrl = process.env.TEST_REDIS_URL;
const channel = `gateway-test:${randomBytes(6).toString('hex')}`;
busContract('RedisEventBus (pub/sub)', !redisUrl, () => RedisEventBus.connect({ url: redisUrl!, channel }));

describe.skipIf(!hasPostgres)('PgEventBus lifecycle', () => {
  it('close() ends its connections and later publishes are local only', async () => {
    const bus = await PgEventBus.connect({ url: pg!.url });
    await bus.close();
    expect(() => bus.publish('invalidate', { kind: 'catalogue' })).not.toThrow();
    await bus.close(); // idempotent
  });
});
