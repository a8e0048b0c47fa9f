// Provider health: the circuit breaker's timing on a tracker with a fake
// clock, then the same behaviour through the real gateway (keys skipped while
// down, a half-open probe bringing them back, `health` events on the bus),
// the window statistics in snapshots, and per-key RPM/TPM caps.
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HealthEvent, LocalEventBus } from '../../src/core/events/event-bus.js';
import { HealthTracker } from '../../src/core/health/health-tracker.js';
import { KeyRateCaps } from '../../src/core/routing/key-rate-caps.js';
import { upstreamKeys } from '../../src/db/schema.js';
import { ProviderError } from '../../src/contract/provider.js';
import { startAnthropicEmulator, startGeminiEmulator } from '../emulators/index.js';
import { type LiveKey, liveModel } from '../helpers/live-routes.js';
import { useTwoUpstreams } from '../helpers/use-upstreams.js';
import { errorOf, usageRow } from './provider-support.js';

const serverError = new ProviderError('anthropic is unavailable (500)', 'retryable', 500);
const rateLimited = (ms?: number) => new ProviderError('anthropic is unavailable (429)', 'retryable', 429, ms);
const badKey = new ProviderError('gemini rejected the upstream key (400)', 'key_fatal', 400);
const clientError = new ProviderError('anthropic rejected the request (400)', 'client', 400, undefined, 400);

function fakeTracker(options: ConstructorParameters<typeof HealthTracker>[2] = {}) {
  const bus = new LocalEventBus();
  const events: HealthEvent[] = [];
  bus.subscribe('health', (e) => events.push(e));
  const clock = { now: 1_000_000 };
  const tracker = new HealthTracker(bus, () => clock.now, options);
  const fail = (id: string, error: ProviderError = serverError) => {
    tracker.onStart(id, 'anthropic');
    tracker.onFailure(id, 'anthropic', error, 5);
  };
  const succeed = (id: string, latencyMs = 10, ttftMs: number | null = null) => {
    tracker.onStart(id, 'anthropic');
    tracker.onSuccess(id, 'anthropic', latencyMs, ttftMs);
  };
  return { tracker, events, clock, fail, succeed, states: () => events.map((e) => e.state) };
}

describe('health tracker: circuit breaker timing (fake clock, injected thresholds)', () => {
  it('opens after the threshold of consecutive failures, lets one half-open probe through after the backoff, and closes on its success', () => {
    const { tracker, clock, fail, states } = fakeTracker({ circuitThreshold: 3, baseBackoffMs: 500 });
    fail('k');
    fail('k');
    expect(tracker.snapshot('k', 'anthropic')).toMatchObject({ state: 'healthy', consecutiveFailures: 2 });
    expect(tracker.isAvailable('k')).toBe(true);
    fail('k');
    expect(tracker.snapshot('k', 'anthropic').state).toBe('down');
    expect(tracker.isAvailable('k')).toBe(false);

    clock.now += 499;
    expect(tracker.isAvailable('k')).toBe(false);
    clock.now += 1;
    // Half-open: exactly one probe at a time.
    expect(tracker.isAvailable('k')).toBe(true);
    tracker.onStart('k', 'anthropic');
    expect(tracker.isAvailable('k')).toBe(false);
    expect(tracker.snapshot('k', 'anthropic')).toMatchObject({ state: 'down', inFlight: 1 });
    tracker.onSuccess('k', 'anthropic', 12);
    expect(tracker.snapshot('k', 'anthropic')).toMatchObject({ state: 'healthy', consecutiveFailures: 0, circuitOpenUntil: null, inFlight: 0 });
    expect(tracker.isAvailable('k')).toBe(true);
    expect(states()).toEqual(['down', 'healthy']);
  });

  it('a failed probe reopens the circuit with an exponentially longer backoff, up to the maximum', () => {
    const { tracker, clock, fail } = fakeTracker({ circuitThreshold: 2, baseBackoffMs: 100, maxBackoffMs: 350 });
    fail('k');
    fail('k');
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const until = Date.parse(tracker.snapshot('k', 'anthropic').circuitOpenUntil!);
      waits.push(until - clock.now);
      clock.now = until;
      expect(tracker.isAvailable('k')).toBe(true);
      fail('k');
      expect(tracker.isAvailable('k')).toBe(false);
    }
    expect(waits).toEqual([100, 200, 350, 350]);
  });

  it('a probe the client cancels releases the key for the next probe instead of leaving it down for good', () => {
    const { tracker, clock, fail } = fakeTracker({ circuitThreshold: 1, baseBackoffMs: 100 });
    fail('k');
    clock.now += 100;
    tracker.onStart('k', 'anthropic');
    expect(tracker.isAvailable('k')).toBe(false);
    tracker.onCancel('k');
    expect(tracker.isAvailable('k')).toBe(true);
    expect(tracker.snapshot('k', 'anthropic').inFlight).toBe(0);
  });

  it('client errors say nothing about the key; 429 cools down for the retry delay or the default; key_fatal disables until reset', () => {
    const { tracker, clock, fail, states } = fakeTracker({ circuitThreshold: 2, defaultCooldownMs: 7_000 });
    fail('k', clientError);
    fail('k', clientError);
    fail('k', clientError);
    expect(tracker.snapshot('k', 'anthropic')).toMatchObject({ state: 'healthy', requests: 0, lastError: clientError.message });

    fail('k', rateLimited(2_000));
    expect(tracker.snapshot('k', 'anthropic').state).toBe('cooling_down');
    expect(tracker.isAvailable('k')).toBe(false);
    clock.now += 2_000;
    expect(tracker.isAvailable('k')).toBe(true);
    fail('k', rateLimited());
    expect(Date.parse(tracker.snapshot('k', 'anthropic').cooldownUntil!) - clock.now).toBe(7_000);

    fail('g', badKey);
    expect(tracker.snapshot('g', 'anthropic').state).toBe('disabled');
    expect(tracker.isAvailable('g')).toBe(false);
    tracker.reset('g');
    expect(tracker.isAvailable('g')).toBe(true);
    expect(states()).toEqual(['cooling_down', 'disabled', 'healthy']);
  });

  it('publishes the end of a cooldown when it happens, not at the next request', async () => {
    const bus = new LocalEventBus();
    const events: HealthEvent[] = [];
    bus.subscribe('health', (e) => events.push(e));
    const tracker = new HealthTracker(bus);
    tracker.onStart('k', 'gemini');
    tracker.onFailure('k', 'gemini', rateLimited(60), 5);
    expect(events.map((e) => e.state)).toEqual(['cooling_down']);
    await expect.poll(() => events.map((e) => e.state)).toEqual(['cooling_down', 'healthy']);
    expect(events[1]).toMatchObject({ upstreamKeyId: 'k', provider: 'gemini', cooldownUntil: null });
  });

  it('degraded below the success-rate threshold; success rate, p50/p95 latency and TTFT over the window', () => {
    const { tracker, fail, succeed, states } = fakeTracker({ window: 20 });
    for (let i = 1; i <= 10; i++) succeed('k', i * 10, i * 2);
    fail('k');
    succeed('k', 1000);
    fail('k');
    const snap = tracker.snapshot('k', 'anthropic');
    // 11 of 13 succeeded: below 0.9.
    expect(snap.state).toBe('degraded');
    expect(snap.successRate).toBeCloseTo(11 / 13, 10);
    expect(snap.requests).toBe(13);
    // Latencies of successes: 10…100 and 1000 (nearest rank).
    expect(snap.p50LatencyMs).toBe(60);
    expect(snap.p95LatencyMs).toBe(1000);
    // TTFT of streams only: 2…20.
    expect(snap.p50TtftMs).toBe(10);
    expect(snap.p95TtftMs).toBe(20);
    expect(snap.lastError).toBe(serverError.message);
    expect(snap.lastErrorAt).toBe(new Date(1_000_000).toISOString());
    expect(states()).toEqual(['degraded']);

    // The window slides: old outcomes fall out.
    for (let i = 0; i < 20; i++) succeed('k', 5);
    expect(tracker.snapshot('k', 'anthropic')).toMatchObject({ state: 'healthy', successRate: 1, p95LatencyMs: 5, p50TtftMs: null });
  });

  it('summarises a provider over its keys', () => {
    const { tracker, fail, succeed } = fakeTracker({ circuitThreshold: 1 });
    succeed('a', 10, 4);
    succeed('a', 30, 6);
    fail('b');
    const provider = tracker.providerSnapshot('anthropic');
    expect(provider).toMatchObject({ provider: 'anthropic', state: 'healthy', keys: 2, availableKeys: 1, requests: 3, p50LatencyMs: 10, p95LatencyMs: 30 });
    expect(provider.successRate).toBeCloseTo(2 / 3, 10);
    expect(tracker.snapshots().map((s) => [s.upstreamKeyId, s.state])).toEqual([
      ['a', 'healthy'],
      ['b', 'down'],
    ]);
  });
});

describe('per-key rate caps (fake clock)', () => {
  it('counts requests and tokens over a sliding minute and says how long until a key frees up', () => {
    const clock = { now: 0 };
    const caps = new KeyRateCaps(() => clock.now);
    const key = { id: 'k', rpmLimit: 2, tpmLimit: 100 };
    expect(caps.waitMs(key, 10)).toBe(0);
    caps.take(key, 10);
    clock.now = 1_000;
    caps.take(key, 10);
    expect(caps.waitMs(key, 10)).toBe(59_000);
    clock.now = 59_999;
    expect(caps.waitMs(key, 10)).toBe(1);
    // The first request leaves the window a minute after it was sent.
    clock.now = 60_000;
    expect(caps.waitMs(key, 10)).toBe(0);
    // Usage replaces the estimate: the tokens cap now bites.
    caps.settle(caps.take(key, 10), 95);
    expect(caps.waitMs({ id: 'k', rpmLimit: null, tpmLimit: 100 }, 10)).toBe(60_000);
    expect(caps.usage('k')).toEqual({ requests: 2, tokens: 105 });
    // A request bigger than the whole cap still goes through on an idle key.
    expect(caps.waitMs({ id: 'idle', rpmLimit: null, tpmLimit: 100 }, 500)).toBe(0);
    // Uncapped keys are not tracked.
    expect(caps.take({ id: 'free', rpmLimit: null, tpmLimit: null }, 10)).toBeUndefined();
  });
});

describe('health and caps through the gateway', () => {
  const up = useTwoUpstreams(startAnthropicEmulator);
  let n = 0;
  const events: HealthEvent[] = [];
  beforeAll(() => {
    up.gw.gateway.bus.subscribe('health', (e) => events.push(e));
  });

  async function setup(keys: LiveKey[] = [{ baseUrl: up.a.url }, { baseUrl: up.b.url }], provider = 'anthropic') {
    const model = `health-e2e-${++n}`;
    const upstreamModel = `claude-health-${n}`;
    const keyIds = await liveModel(up.gw, { id: model, provider, upstreamModel, keys });
    const project = await up.gw.project({ mode: 'live', balance: '10' });
    return { model, keyIds, client: up.gw.client(project.secret) };
  }
  const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello upstream' }] });
  const statesOf = (keyId: string) => events.filter((e) => e.upstreamKeyId === keyId).map((e) => e.state);

  it('opens the circuit after repeated failures (key down and skipped), then a half-open probe brings it back to healthy', async () => {
    up.a.setDefault({ status: 500 });
    up.b.setScript({ text: 'B answered' });
    const s = await setup();
    const [keyA] = s.keyIds as [string, string];
    // The gateway's tracker uses the defaults: 5 consecutive failures, 1 s first backoff.
    for (let i = 0; i < 5; i++) {
      const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
      expect(res.data.choices[0]!.message.content).toBe('B answered');
      expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    }
    expect(up.gw.gateway.health.snapshot(keyA, 'anthropic')).toMatchObject({ state: 'down', consecutiveFailures: 5, successRate: 0 });
    expect(statesOf(keyA)).toEqual(['down']);
    expect(events.find((e) => e.upstreamKeyId === keyA)).toMatchObject({ provider: 'anthropic', state: 'down', lastError: expect.stringContaining('500') });

    // While down the key is skipped: one attempt, straight to B.
    const skipped = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(skipped.response.headers.get('x-gateway-attempts')).toBe('1');
    expect(up.a.requests).toHaveLength(5);

    // After the backoff, one probe goes to A; it succeeds and closes the circuit.
    up.a.setDefault(undefined);
    up.a.setScript({ text: 'A is back' });
    await expect.poll(() => up.gw.gateway.health.isAvailable(keyA), { timeout: 3_000, interval: 50 }).toBe(true);
    const probe = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(probe.data.choices[0]!.message.content).toBe('A is back');
    expect(probe.response.headers.get('x-gateway-attempts')).toBe('1');
    expect((await usageRow(up.gw, probe.response.headers.get('x-request-id')!)).upstreamKeyId).toBe(keyA);
    // The closed circuit starts a fresh window: healthy, not degraded by the outage it recovered from.
    expect(up.gw.gateway.health.snapshot(keyA, 'anthropic')).toMatchObject({ state: 'healthy', consecutiveFailures: 0, successRate: 1, lastError: expect.stringContaining('500') });
    expect(statesOf(keyA)).toEqual(['down', 'healthy']);
  });

  it('publishes a health event on each state change of a key (cooldown, disable, operator reset)', async () => {
    const gem = await startGeminiEmulator();
    try {
      gem.enqueue({ status: 429, retryAfter: 30 });
      gem.setScript({ text: 'second key answered' });
      const s = await setup([{ baseUrl: gem.url }, { baseUrl: gem.url }], 'gemini');
      const [first, second] = s.keyIds as [string, string];
      const ok = await s.client.chat.completions.create(hello(s.model));
      expect(ok.choices[0]!.message.content).toBe('second key answered');
      expect(statesOf(first)).toEqual(['cooling_down']);
      expect(events.filter((e) => e.upstreamKeyId === first)[0]).toMatchObject({ provider: 'gemini', cooldownUntil: expect.any(String) });

      gem.enqueue({ status: 403 });
      const err = await errorOf(s.client.chat.completions.create(hello(s.model)));
      expect(err.status).toBe(503);
      expect(statesOf(second)).toEqual(['disabled']);
      expect(gem.requests).toHaveLength(3);

      up.gw.gateway.health.reset(first);
      expect(statesOf(first)).toEqual(['cooling_down', 'healthy']);
    } finally {
      await gem.close();
    }
  });

  it('a key re-enabled on another replica is used again here: health from before the change is forgotten', async () => {
    up.a.enqueue({ status: 401 });
    up.a.setScript({ text: 'A again' });
    up.b.setScript({ text: 'B answered' });
    const s = await setup();
    const [keyA] = s.keyIds as [string, string];
    expect((await s.client.chat.completions.create(hello(s.model))).choices[0]!.message.content).toBe('B answered');
    await expect.poll(async () => (await up.gw.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, keyA)))[0]!.status).toBe('disabled');
    expect(up.gw.gateway.health.snapshot(keyA, 'anthropic').state).toBe('disabled');

    // What an operator's enableUpstreamKey does on another replica: the row changes, this replica only hears the invalidation.
    await up.gw.database.db.update(upstreamKeys).set({ status: 'active', disabledReason: null, updatedAt: new Date(Date.now() + 1) }).where(eq(upstreamKeys.id, keyA));
    await up.gw.gateway.pool.reload();
    const res = await s.client.chat.completions.create(hello(s.model));
    expect(res.choices[0]!.message.content).toBe('A again');
    expect(up.gw.gateway.health.snapshot(keyA, 'anthropic').state).toBe('healthy');
    expect(statesOf(keyA)).toEqual(['disabled', 'healthy']);
  });

  it('reports latency, TTFT and success rate from real calls in snapshots', async () => {
    up.b.setDefault({ latencyMs: 60, firstByteDelayMs: 80 });
    const s = await setup([{ baseUrl: up.b.url }]);
    const [keyB] = s.keyIds as [string];
    for (let i = 0; i < 3; i++) await s.client.chat.completions.create(hello(s.model));
    for (let i = 0; i < 2; i++) await s.client.chat.completions.stream(hello(s.model)).finalChatCompletion();
    const snap = up.gw.gateway.health.snapshot(keyB, 'anthropic');
    expect(snap).toMatchObject({ state: 'healthy', successRate: 1, requests: 5, inFlight: 0, lastError: null });
    expect(snap.p50LatencyMs).toBeGreaterThanOrEqual(60);
    expect(snap.p95LatencyMs).toBeGreaterThanOrEqual(snap.p50LatencyMs!);
    // TTFT comes from the streams only: headers after 60 ms, first event 80 ms later.
    expect(snap.p50TtftMs).toBeGreaterThanOrEqual(140);
    expect(snap.p95TtftMs).toBeGreaterThanOrEqual(snap.p50TtftMs!);
    expect(up.gw.gateway.health.providerSnapshot('anthropic').requests).toBeGreaterThanOrEqual(5);
  });

  it('keeps a key under its RPM cap: over it, requests go to the next key', async () => {
    up.a.setScript({ text: 'from A' });
    up.b.setScript({ text: 'from B' });
    const s = await setup([{ baseUrl: up.a.url, rpmLimit: 2 }, { baseUrl: up.b.url }]);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await s.client.chat.completions.create(hello(s.model))).choices[0]!.message.content!);
    expect(answers).toEqual(['from A', 'from A', 'from B', 'from B']);
    expect(up.gw.gateway.dispatcher.capUsage(s.keyIds[0]!).requests).toBe(2);
    // Skipping a capped key is not a failure of the key.
    expect(up.gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic')).toMatchObject({ state: 'healthy', successRate: 1 });
  });

  it('keeps a key under its TPM cap, counting the tokens the upstream reported (streams included)', async () => {
    up.a.setScript({ text: 'from A', usage: { input: 60, output: 35 } });
    up.b.setScript({ text: 'from B' });
    const s = await setup([{ baseUrl: up.a.url, tpmLimit: 100 }, { baseUrl: up.b.url }]);
    const first = await s.client.chat.completions.stream(hello(s.model)).finalChatCompletion();
    expect(first.choices[0]!.message.content).toBe('from A');
    expect(up.gw.gateway.dispatcher.capUsage(s.keyIds[0]!)).toEqual({ requests: 1, tokens: 95 });
    // 95 used + this prompt > 100: the next key.
    const second = await s.client.chat.completions.create(hello(s.model));
    expect(second.choices[0]!.message.content).toBe('from B');
    expect(up.a.requests).toHaveLength(1);
  });

  it('when every key is at its cap the client gets a 503 with Retry-After', async () => {
    const s = await setup([{ baseUrl: up.a.url, rpmLimit: 1 }]);
    await s.client.chat.completions.create(hello(s.model));
    const err = await errorOf(s.client.chat.completions.create(hello(s.model)));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/RPM\/TPM cap/);
    const retryAfter = Number(err.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(up.a.requests).toHaveLength(1);
  });
});
