// The cross-replica event buses: local delivery first, every other bus on the
// same Postgres (LISTEN/NOTIFY) or Redis channel gets the event once, no bus
// hears its own echo, oversized payloads are guarded, close() ends connections.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus, GatewayEvents, Topic, UsageEvent } from '../../src/core/events/event-bus.js';
import { PgEventBus } from '../../src/core/events/pg-event-bus.js';
import { RedisEventBus } from '../../src/core/events/redis-event-bus.js';
import { isOwnWireMessage, MAX_WIRE_BYTES, packWireEvents, unpackWireEvents, type WireEvent } from '../../src/core/events/wire-event.js';
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
  const tooLarge: string[] = [];
  const pack = (events: WireEvent[], max?: number) => packWireEvents('o1', events, (e) => tooLarge.push(e.topic), max);

  it('round-trips a batch, skips its own echo unparsed and drops anything malformed', () => {
    const events: WireEvent[] = [
      { topic: 'invalidate', payload: { kind: 'api-key', id: 'key_1' } },
      { topic: 'usage', payload: usage('r-1') },
    ];
    const [text, ...rest] = pack(events);
    expect(rest).toEqual([]);
    expect(unpackWireEvents(text!)).toEqual({ origin: 'o1', events });
    expect(isOwnWireMessage('o1', text!)).toBe(true);
    expect(isOwnWireMessage('o', text!)).toBe(false);
    for (const bad of ['', 'nope', 'o {}', 'o [', ' []']) expect(unpackWireEvents(bad)).toBeUndefined();
    // Inside a well-formed message, only the well-formed events survive.
    const mixed = 'o [["secrets",{}],["usage",null],[1,{}],["invalidate",{"kind":"catalogue"}]]';
    expect(unpackWireEvents(mixed)!.events).toEqual([{ topic: 'invalidate', payload: { kind: 'catalogue' } }]);
  });

  it('splits a batch so no message reaches the limit, keeping order', () => {
    const events: WireEvent[] = Array.from({ length: 200 }, (_, i) => ({ topic: 'usage', payload: usage(`r-${i}`) }));
    const messages = pack(events);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(Buffer.byteLength(m)).toBeLessThanOrEqual(MAX_WIRE_BYTES);
    expect(messages.flatMap((m) => unpackWireEvents(m)!.events)).toEqual(events);
  });

  it('cuts a long health error to fit and refuses anything else too large to relay', () => {
    tooLarge.length = 0;
    const health = { upstreamKeyId: 'upk_1', provider: 'openai', state: 'down', at: new Date().toISOString(), lastError: 'x'.repeat(20_000) };
    const messages = pack([
      { topic: 'health', payload: health },
      { topic: 'usage', payload: { ...usage('big'), model: 'm'.repeat(9_000) } },
      { topic: 'usage', payload: usage('small') },
    ]);
    expect(messages).toHaveLength(1);
    expect(Buffer.byteLength(messages[0]!)).toBeLessThanOrEqual(MAX_WIRE_BYTES);
    const events = unpackWireEvents(messages[0]!)!.events;
    expect(events[0]!.payload).toMatchObject({ upstreamKeyId: 'upk_1', state: 'down', lastError: '(too long to relay)' });
    expect(events.map((e) => (e.topic === 'usage' ? (e.payload as UsageEvent).requestId : e.topic))).toEqual(['health', 'small']);
    expect(tooLarge).toEqual(['usage']);
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
