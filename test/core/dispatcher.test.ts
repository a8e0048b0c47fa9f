// The dispatcher alone, with fake adapters and pool keys through its
// injectable deps and a real HealthTracker on a clock the test moves: which
// key is tried first, how failures move to the next key or fallback model,
// and where it stops (five attempts, the deadline, a client error, a stream
// that has started).
import { beforeEach, describe, expect, it } from 'vitest';
import type { CatalogueModel } from '../../src/core/catalogue/catalogue.js';
import type { ChatRequest } from '../../src/contract/chat-request.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { HealthTracker } from '../../src/core/health/health-tracker.js';
import { silentLogger } from '../../src/core/logger.js';
import { detachedClient } from '../../src/core/request-context.js';
import { Cancellation, sleep } from '../../src/contract/cancel-signal.js';
import { requestDeadline } from '../../src/core/routing/deadline.js';
import { type DispatchOptions, Dispatcher, MAX_ATTEMPTS } from '../../src/core/routing/dispatcher.js';
import { DeadlineError, NoUpstreamError } from '../../src/core/routing/routing-errors.js';
import { seededRandom } from '../helpers/seeded-random.js';
import type { PoolKey, UpstreamPool } from '../../src/core/routing/upstream-pool.js';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse } from '../../src/contract/openai-shapes.js';
import { type CallContext, type ChatStream, type ProviderAdapter, ProviderError } from '../../src/contract/provider.js';
import type { ProviderInfo } from '../../src/contract/provider-info.js';

/** What a key does when called: answer (the default), throw, or hand back a stream. */
type Outcome = { error: ProviderError } | { stream: () => AsyncIterable<ChatCompletionChunk[]> } | { run: (ctx: CallContext) => Promise<void> };

class FakeAdapter implements ProviderAdapter {
  /** The keys called, in order. */
  readonly calls: string[] = [];
  readonly outcomes = new Map<string, Outcome>();

  readonly info: ProviderInfo;

  constructor(id: string) {
    this.info = { id, displayName: id, defaultBaseUrl: undefined, seedEnv: undefined, capabilities: { embeddings: true } };
  }

  async #call(ctx: CallContext): Promise<Outcome | undefined> {
    this.calls.push(ctx.target.keyId);
    const outcome = this.outcomes.get(ctx.target.keyId);
    if (outcome && 'error' in outcome) throw outcome.error;
    if (outcome && 'run' in outcome) await outcome.run(ctx);
    return outcome;
  }

  async chat(_req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    await this.#call(ctx);
    return completion(`from ${ctx.target.keyId}`);
  }

  async chatStream(_req: ChatRequest, ctx: CallContext): Promise<ChatStream> {
    const outcome = await this.#call(ctx);
    return { chunks: outcome && 'stream' in outcome ? outcome.stream() : batches(chunk(`from ${ctx.target.keyId}`)) };
  }

  async embed(_req: unknown, ctx: CallContext): Promise<EmbeddingResponse> {
    await this.#call(ctx);
    return { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [1] }], model: ctx.target.upstreamModel, usage: { prompt_tokens: 1, total_tokens: 1 } };
  }
}

const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
const completion = (content: string): ChatCompletion => ({
  id: 'c',
  object: 'chat.completion',
  created: 0,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage,
});
const chunk = (content: string): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** A stream of these batches, then `error` if given. */
async function* batches(...items: Array<ChatCompletionChunk | ProviderError>): AsyncIterable<ChatCompletionChunk[]> {
  for (const item of items) {
    if (item instanceof ProviderError) throw item;
    yield [item];
  }
}

const overloaded = () => new ProviderError('upstream answered 503', 'retryable', 503);

function poolKey(id: string, over: Partial<PoolKey> = {}): PoolKey {
  return { id, provider: 'p', label: id, baseUrl: 'http://upstream.test', apiKey: `sk-${id}`, weight: 1, priority: 0, rpmLimit: null, tpmLimit: null, models: null, updatedAt: 0, ...over };
}

function model(id: string, over: Partial<CatalogueModel> = {}): CatalogueModel {
  return {
    id,
    kind: 'chat',
    ownedBy: 'test',
    created: 0,
    prices: { input: 1n, output: 2n, cachedInput: 1n, cacheWrite: 1n, cacheWrite1h: 1n },
    priceText: { input: '1', output: '2', cachedInput: '1', cacheWrite: '1', cacheWrite1h: '1' },
    contextWindow: null,
    maxOutputTokens: 1000,
    dimensions: null,
    fallbacks: [],
    capabilities: {},
    enabled: true,
    routes: [{ id: `route-${id}`, provider: 'p', upstreamModel: `${id}-up`, priority: 0, weight: 1 }],
    ...over,
  };
}

const hello = { model: 'm', messages: [{ role: 'user', content: 'hi' }] } as ChatRequest;


let now: number;
let health: HealthTracker;
let adapter: FakeAdapter;
let keys: PoolKey[];
let models: Map<string, CatalogueModel>;
let fatal: Array<{ keyId: string; reason: string }>;

beforeEach(() => {
  now = 1_000_000;
  health = new HealthTracker(new LocalEventBus(), () => now);
  adapter = new FakeAdapter('p');
  keys = [];
  models = new Map();
  fatal = [];
});

function dispatcher(random?: () => number): Dispatcher {
  const pool = { keysFor: (provider: string, upstreamModel: string) => keys.filter((k) => k.provider === provider && (!k.models || k.models.includes(upstreamModel))) };
  return new Dispatcher({
    pool: pool as unknown as UpstreamPool,
    health,
    adapters: new Map([[adapter.info.id, adapter]]),
    mock: new FakeAdapter('mock'),
    modelById: (id) => models.get(id),
    defaultBaseUrl: () => undefined,
    onKeyFatal: (keyId, reason) => fatal.push({ keyId, reason }),
    logger: silentLogger,
    ...(random ? { random } : {}),
  });
}

const options = (signal = new Cancellation()): DispatchOptions => ({ requestId: 'req_1', signal, test: false });

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the dispatch should have failed'),
    (e: unknown) => e,
  );
}

describe('key order', () => {
  it('tries the lowest priority tier first, then the next tiers in order', async () => {
    keys = [poolKey('tier2', { priority: 2 }), poolKey('tier0', { priority: 0 }), poolKey('tier1', { priority: 1 })];
    adapter.outcomes.set('tier0', { error: overloaded() });
    const res = await dispatcher().chat(model('m'), hello, options());
    expect(adapter.calls).toEqual(['tier0', 'tier1']);
    expect(res.route).toEqual({ modelId: 'm', provider: 'p', upstreamModel: 'm-up', upstreamKeyId: 'tier1', attempts: 2 });
    expect(res.value.choices[0]!.message.content).toBe('from tier1');
  });

  it('spreads first picks within a tier by weight (counted over a seeded sequence)', async () => {
    keys = [poolKey('heavy', { weight: 3 }), poolKey('light', { weight: 1 }), poolKey('backup', { priority: 1, weight: 100 })];
    const d = dispatcher(seededRandom(42));
    const firsts = { heavy: 0, light: 0, backup: 0 };
    for (let i = 0; i < 2_000; i++) {
      const res = await d.chat(model('m'), hello, options());
      firsts[res.route.upstreamKeyId as keyof typeof firsts]++;
    }
    // Weight 3 against 1: three picks in four. A higher tier is never first, whatever its weight.
    expect(firsts.heavy / 2_000).toBeGreaterThan(0.72);
    expect(firsts.heavy / 2_000).toBeLessThan(0.78);
    expect(firsts.heavy + firsts.light).toBe(2_000);
    expect(firsts.backup).toBe(0);
  });

  it('takes its order from the random source it is given', async () => {
    keys = [poolKey('a', { weight: 1 }), poolKey('b', { weight: 1 })];
    // Ranks are u^(1/w): the larger goes first.
    expect((await dispatcher(sequence(0.1, 0.9)).chat(model('m'), hello, options())).route.upstreamKeyId).toBe('b');
    expect((await dispatcher(sequence(0.9, 0.1)).chat(model('m'), hello, options())).route.upstreamKeyId).toBe('a');
  });
});

function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('health', () => {
  it('skips keys that are cooling down, down or disabled, and comes back to a cooled key', async () => {
    keys = [poolKey('cooling'), poolKey('down', { priority: 1 }), poolKey('disabled', { priority: 2 }), poolKey('healthy', { priority: 3 })];
    health.onStart('cooling', 'p');
    health.onFailure('cooling', 'p', new ProviderError('429', 'retryable', 429, 30_000), 1);
    for (let i = 0; i < 5; i++) {
      health.onStart('down', 'p');
      health.onFailure('down', 'p', overloaded(), 1);
    }
    health.onStart('disabled', 'p');
    health.onFailure('disabled', 'p', new ProviderError('401', 'key_fatal', 401), 1);
    expect(['cooling', 'down', 'disabled'].map((id) => health.snapshot(id, 'p').state)).toEqual(['cooling_down', 'down', 'disabled']);

    const res = await dispatcher().chat(model('m'), hello, options());
    expect(adapter.calls).toEqual(['healthy']);
    expect(res.route.attempts).toBe(1);

    // Past its cooldown the cooled key, first by priority, answers again.
    now += 30_001;
    await dispatcher().chat(model('m'), hello, options());
    expect(adapter.calls).toEqual(['healthy', 'cooling']);
  });

  it('a key the upstream rejects is reported for disabling and the next key answers', async () => {
    keys = [poolKey('revoked'), poolKey('good', { priority: 1 })];
    adapter.outcomes.set('revoked', { error: new ProviderError('invalid x-api-key', 'key_fatal', 401) });
    const res = await dispatcher().chat(model('m'), hello, options());
    expect(res.route.upstreamKeyId).toBe('good');
    expect(fatal).toEqual([{ keyId: 'revoked', reason: 'invalid x-api-key' }]);
    expect(health.snapshot('revoked', 'p').state).toBe('disabled');
  });

  it('no key at all is a NoUpstreamError with no attempt', async () => {
    const err = await refusal(dispatcher().chat(model('m'), hello, options()));
    expect(err).toBeInstanceOf(NoUpstreamError);
    expect((err as NoUpstreamError).attempts).toBe(0);
    expect((err as Error).message).toMatch(/No upstream key is available for model m/);
  });
});

describe('failover', () => {
  it('moves to the fallback models in order once the model’s own keys fail, skipping unknown, other-kind and unable ones', async () => {
    models.set('embedder', model('embedder', { kind: 'embedding' }));
    models.set('no-reasoning', model('no-reasoning', { capabilities: { reasoning: false } }));
    models.set('thinker', model('thinker', { capabilities: { reasoning: true } }));
    keys = [
      poolKey('own', { models: ['m-up'] }),
      poolKey('embedder-key', { models: ['embedder-up'] }),
      poolKey('no-reasoning-key', { models: ['no-reasoning-up'] }),
      poolKey('thinker-key', { models: ['thinker-up'] }),
    ];
    adapter.outcomes.set('own', { error: overloaded() });
    const primary = model('m', { fallbacks: ['missing', 'embedder', 'no-reasoning', 'thinker'] });
    const res = await dispatcher().chat(primary, { ...hello, think: true } as ChatRequest, options());
    expect(adapter.calls).toEqual(['own', 'thinker-key']);
    expect(res.route).toMatchObject({ modelId: 'thinker', upstreamModel: 'thinker-up', upstreamKeyId: 'thinker-key', attempts: 2 });
  });

  it(`stops after ${MAX_ATTEMPTS} attempts across keys and fallbacks, with the last error`, async () => {
    models.set('fallback', model('fallback'));
    keys = [...Array.from({ length: 4 }, (_, i) => poolKey(`own-${i}`, { priority: i, models: ['m-up'] })), poolKey('fb-0', { models: ['fallback-up'] }), poolKey('fb-1', { priority: 1, models: ['fallback-up'] })];
    for (const k of keys) adapter.outcomes.set(k.id, { error: new ProviderError(`${k.id} failed`, 'retryable', 500) });
    const err = await refusal(dispatcher().chat(model('m', { fallbacks: ['fallback'] }), hello, options()));
    expect(adapter.calls).toEqual(['own-0', 'own-1', 'own-2', 'own-3', 'fb-0']);
    expect(err).toBeInstanceOf(NoUpstreamError);
    expect((err as NoUpstreamError).attempts).toBe(MAX_ATTEMPTS);
    expect((err as NoUpstreamError).lastError?.message).toBe('fb-0 failed');
  });

  it('a client error is final: no other key is tried, and the key stays healthy', async () => {
    keys = [poolKey('a'), poolKey('b', { priority: 1 })];
    adapter.outcomes.set('a', { error: new ProviderError('temperature: must be <= 2', 'client', 400, undefined, 400) });
    const err = await refusal(dispatcher().chat(model('m'), hello, options()));
    expect(err).toBeInstanceOf(ProviderError);
    expect(adapter.calls).toEqual(['a']);
    expect(health.snapshot('a', 'p')).toMatchObject({ state: 'healthy', requests: 0, inFlight: 0 });
  });

  it('refuses an option the model cannot honour before calling any key', async () => {
    keys = [poolKey('a')];
    const err = await refusal(dispatcher().chat(model('m', { capabilities: { reasoning: false } }), { ...hello, think: true } as ChatRequest, options()));
    expect(err).toMatchObject({ errorClass: 'client', clientStatus: 400, message: 'think is not supported by model m' });
    expect(adapter.calls).toEqual([]);
  });

  it('embeddings fail over the same way', async () => {
    keys = [poolKey('a'), poolKey('b', { priority: 1 })];
    adapter.outcomes.set('a', { error: overloaded() });
    const res = await dispatcher().embed(model('e', { kind: 'embedding', dimensions: 8 }), { model: 'e', input: 'hi' }, options());
    expect(adapter.calls).toEqual(['a', 'b']);
    expect(res.route).toMatchObject({ upstreamKeyId: 'b', attempts: 2 });
  });
});

describe('the deadline', () => {
  it('ends the dispatch when it passes mid-attempt: no next key, and nothing held against the key', async () => {
    keys = [poolKey('slow'), poolKey('next', { priority: 1 })];
    // The upstream answers only when the request's signal stops it.
    adapter.outcomes.set('slow', { run: (ctx) => sleep(60_000, ctx.signal) });
    const deadline = requestDeadline(detachedClient, 20, true);
    try {
      const err = await refusal(dispatcher().chat(model('m'), hello, options(deadline.signal)));
      expect(err).toBeInstanceOf(DeadlineError);
    } finally {
      deadline.clear();
    }
    expect(adapter.calls).toEqual(['slow']);
    expect(health.snapshot('slow', 'p')).toMatchObject({ state: 'healthy', requests: 0, inFlight: 0, lastError: null });
  });

  it('calls no key once the request is already cancelled', async () => {
    keys = [poolKey('a')];
    const signal = new Cancellation();
    signal.abort(new Error('client gone'));
    await refusal(dispatcher().chat(model('m'), hello, options(signal)));
    expect(adapter.calls).toEqual([]);
  });
});

describe('streams', () => {
  it('a stream that fails or ends before its first chunk fails over', async () => {
    keys = [poolKey('broken'), poolKey('empty', { priority: 1 }), poolKey('good', { priority: 2 })];
    adapter.outcomes.set('broken', { stream: () => batches(overloaded()) });
    adapter.outcomes.set('empty', { stream: () => batches() });
    const res = await dispatcher().chatStream(model('m'), hello, options());
    expect(adapter.calls).toEqual(['broken', 'empty', 'good']);
    expect(res.route).toMatchObject({ upstreamKeyId: 'good', attempts: 3 });
    expect(res.value.first).toEqual([chunk('from good')]);
    expect(health.snapshot('broken', 'p')).toMatchObject({ requests: 1, successRate: 0, inFlight: 0 });
    expect(health.snapshot('empty', 'p').lastError).toBe('The upstream stream ended before sending anything.');
  });

  it('once a chunk has arrived the stream is the answer: a later error reaches the reader, with no other key tried', async () => {
    keys = [poolKey('flaky'), poolKey('other', { priority: 1 })];
    const midStream = new ProviderError('connection reset mid-stream', 'retryable', 200);
    adapter.outcomes.set('flaky', { stream: () => batches(chunk('one'), chunk('two'), midStream) });
    const res = await dispatcher().chatStream(model('m'), hello, options());
    expect(res.route).toMatchObject({ upstreamKeyId: 'flaky', attempts: 1 });
    expect(res.value.first).toEqual([chunk('one')]);
    expect(await res.value.rest.next()).toEqual({ done: false, value: [chunk('two')] });
    await expect(res.value.rest.next()).rejects.toBe(midStream);
    // Its health is settled when the stream ends, not when it opened.
    expect(health.snapshot('flaky', 'p')).toMatchObject({ inFlight: 1, requests: 0 });
    res.value.finish(midStream);
    expect(health.snapshot('flaky', 'p')).toMatchObject({ inFlight: 0, requests: 1, lastError: 'connection reset mid-stream' });
    expect(adapter.calls).toEqual(['flaky']);
  });
});
