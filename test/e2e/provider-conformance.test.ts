// One conformance suite run against every provider's emulator through the
// official openai client: chat, streams, tools, JSON mode, reasoning, usage
// and billing, errors, failover, deadlines and embeddings, each scenario
// switched on by what the provider declares in provider-conformance.ts. What
// the client sees and what is billed is the same for every provider; how each
// wire spells a request is checked by that provider's quirks
// (provider-<id>-quirks.ts), which run here too, on the same gateway.
// One provider alone: `npx vitest run test/e2e/provider-conformance.test.ts -t gemini`.
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countTextTokens } from '../../src/tokens/count-tokens.js';
import { upstreamKeys } from '../../src/db/schema.js';
import type { Emulator } from '../emulators/index.js';
import { abortAfterContent } from '../helpers/abort-stream.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { PROFILES, type ProviderProfile } from './provider-conformance.js';
import {
  drain,
  errorOf,
  expectBilled,
  type ProviderEnv,
  type Route,
  type RouteOptions,
  timeTool,
  usageRow,
  type WithReasoning,
  weatherTool,
} from './provider-support.js';

let gw: TestGateway;
/** Two emulators per wire family: keys A (tried first) and B. */
const pairs = new Map<ProviderProfile['family'], [Emulator, Emulator]>();
let client: OpenAI;
let n = 0;

beforeAll(async () => {
  const families = [...new Map(PROFILES.map((p) => [p.family, p])).values()];
  const [started, ...emulators] = await Promise.all([startGateway(), ...families.flatMap((p) => [p.start(), p.start()])]);
  gw = started as TestGateway;
  for (const [i, p] of families.entries()) pairs.set(p.family, [emulators[2 * i] as Emulator, emulators[2 * i + 1] as Emulator]);
  // One project pays for every request; each assertion reads its own request's charge.
  client = gw.client((await gw.project({ mode: 'live', balance: '100' })).secret);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([...pairs.values()].flat().map((e) => e.close()));
});
beforeEach(() => {
  for (const e of [...pairs.values()].flat()) e.reset();
});

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello there' }] });
const requestIdOf = (res: { response: Response }) => res.response.headers.get('x-request-id')!;
const keyRow = async (id: string) => (await gw.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, id)))[0]!;

describe.each(PROFILES)('$id through the gateway', (p) => {
  const emulators = () => pairs.get(p.family)!;
  async function route(options: RouteOptions = {}): Promise<Route> {
    const [a, b] = emulators();
    const model = `conf-${p.id}-${++n}`;
    const upstreamModel = options.upstreamModel ?? `conf-${p.id}-up-${n}`;
    const keys = options.keys ?? (options.onlyA ? [{ baseUrl: a.url }] : [{ baseUrl: a.url }, { baseUrl: b.url }]);
    const keyIds = await liveModel(gw, {
      id: model,
      provider: p.id,
      upstreamModel,
      keys,
      ...(p.maxOutputTokens ? { maxOutputTokens: p.maxOutputTokens } : {}),
      ...(options.kind ? { kind: options.kind } : {}),
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      ...(options.fallbacks ? { fallbacks: options.fallbacks } : {}),
    });
    return { model, upstreamModel, keyIds };
  }
  let healthy: Promise<Route> | undefined;
  const shared = () => (healthy ??= route());
  const env: ProviderEnv = { gw: () => gw, client: () => client, emulators, route, shared };

  describe('chat', () => {
    it('answers text and tool calls, and bills the usage the upstream reported, cached tokens at their price', async () => {
      const [a] = emulators();
      a.setScript({ text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }], usage: { input: 120, output: 30, cached: 20 } });
      const s = await shared();
      const res = await client.chat.completions.create({ ...hello(s.model), tools: [weatherTool] }).withResponse();
      const choice = res.data.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.role).toBe('assistant');
      expect(choice.message.content).toBe('Checking the weather.');
      expect(choice.message.tool_calls).toEqual([{ id: expect.stringMatching(p.toolCallId), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }]);
      expect(res.data.model).toBe(s.model);
      expect(res.data.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 20 } });
      expect(res.response.headers.get('x-gateway-route')).toBe(`${p.id}/${s.upstreamModel}`);
      // 100 uncached × 1 + 20 cached × 0.5 + 30 × 2 = 170 per 1M.
      const row = await expectBilled(gw, requestIdOf(res), { prompt: 120, completion: 30, cached: 20 });
      expect(row).toMatchObject({ provider: p.id, upstreamModel: s.upstreamModel, upstreamKeyId: s.keyIds[0], cost: '0.000170000000' });
    });

    it('a text answer ends with stop, whatever tool_choice said', async () => {
      const [a] = emulators();
      a.setScript({ text: 'Plain.' });
      const s = await shared();
      for (const tool_choice of ['none', 'auto', 'required'] as const) {
        const res = await client.chat.completions.create({ ...hello(s.model), tools: [weatherTool, timeTool], tool_choice });
        expect(res.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'Plain.' } });
      }
      expect(a.requests).toHaveLength(3);
    });

    it('an answer cut at its cap ends with finish_reason length, in answers and streams', async () => {
      const [a] = emulators();
      a.setScript({ text: 'cut short', finishReason: 'length' });
      const s = await shared();
      const res = await client.chat.completions.create({ ...hello(s.model), max_tokens: 3 });
      expect(res.choices[0]!.finish_reason).toBe('length');
      const final = await client.chat.completions.stream({ ...hello(s.model), max_tokens: 3 }).finalChatCompletion();
      expect(final.choices[0]!.finish_reason).toBe('length');
      expect(final.choices[0]!.message.content).toBe('cut short');
    });

    it('think: the reasoning comes back as reasoning_content and is billed as output', async () => {
      const [a] = emulators();
      a.setScript({ text: 'Forty-two.', reasoning: 'Six times seven.', usage: { input: 10, output: 30, reasoning: 12 } });
      const s = await shared();
      const res = await client.chat.completions
        .create({ ...hello(s.model), max_tokens: 3000, think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .withResponse();
      const message = res.data.choices[0]!.message as OpenAI.ChatCompletionMessage & WithReasoning;
      expect(message.content).toBe('Forty-two.');
      expect(message.reasoning_content).toBe('Six times seven.');
      const reasoning = p.supports.reasoningTokens ? 12 : undefined;
      expect(res.data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 30, ...(reasoning ? { completion_tokens_details: { reasoning_tokens: reasoning } } : {}) });
      await expectBilled(gw, requestIdOf(res), { prompt: 10, completion: 30, ...(reasoning ? { reasoning } : {}) });
    });

    it('response_format json_schema: the JSON is the content, with no tool calls', async () => {
      const [a] = emulators();
      a.setScript(p.jsonScript({ answer: 42 }));
      const s = await shared();
      const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
      const res = await client.chat.completions.create({
        ...hello(s.model),
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      });
      expect(res.choices[0]!.message.content).toBe('{"answer":42}');
      expect(res.choices[0]!.message.tool_calls).toBeUndefined();
      expect(res.choices[0]!.finish_reason).toBe('stop');
    });

    it.runIf(p.unsupported.length > 0)('refuses an option the provider cannot honour with a 400 naming it, without calling upstream', async () => {
      const [a, b] = emulators();
      const s = await shared();
      for (const { params, names } of p.unsupported) {
        const err = await errorOf(client.chat.completions.create({ ...hello(s.model), ...params } as OpenAI.ChatCompletionCreateParamsNonStreaming));
        expect(err.status).toBe(400);
        expect(err.message).toContain(names);
      }
      expect(a.requests).toHaveLength(0);
      expect(b.requests).toHaveLength(0);
      expect(gw.gateway.health.snapshot(s.keyIds[0]!, p.id).state).toBe('healthy');
    });

    it('refuses think/reasoning_effort/deepsearch with a 400 naming the option when the model is declared without them', async () => {
      const [a] = emulators();
      const s = await route({ onlyA: true, capabilities: { tools: true, vision: true } });
      const think = await errorOf(client.chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
      expect(think.status).toBe(400);
      expect(think.message).toContain('think');
      const effort = await errorOf(client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'high' }));
      expect(effort.status).toBe(400);
      expect(effort.message).toContain('reasoning_effort');
      const search = await errorOf(client.chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
      expect(search.status).toBe(400);
      expect(search.message).toContain('deepsearch');
      expect(a.requests).toHaveLength(0);
      // Turning reasoning off asks for nothing the model lacks.
      await client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'none' });
      expect(a.requests).toHaveLength(1);
    });

    it('never falls back to a model that cannot honour the options the request asked for', async () => {
      const [a, b] = emulators();
      b.setScript({ text: 'fallback without thinking' });
      const fallback = await route({ keys: [{ baseUrl: b.url }], capabilities: { tools: true } });
      a.setDefault({ status: 500 });
      const s = await route({ onlyA: true, capabilities: { tools: true, reasoning: true }, fallbacks: [fallback.model] });
      const err = await errorOf(client.chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
      expect(err.status).toBe(503);
      expect(b.requests).toHaveLength(0);
      const plain = await client.chat.completions.create(hello(s.model)).withResponse();
      expect(plain.data.choices[0]!.message.content).toBe('fallback without thinking');
      expect(plain.response.headers.get('x-gateway-model')).toBe(fallback.model);
    });
  });

  describe('streams', () => {
    it('streams text and reasoning_content, and bills the usage of the end of the stream', async () => {
      const [a] = emulators();
      a.setScript({ text: 'alpha beta gamma delta', reasoning: 'thinking it over', chunks: 4, usage: { input: 50, output: 40, reasoning: 10 } });
      const s = await shared();
      const res = await client.chat.completions
        .create({ ...hello(s.model), stream: true, stream_options: { include_usage: true }, think: true } as OpenAI.ChatCompletionCreateParamsStreaming)
        .withResponse();
      const seen = await drain(res.data);
      expect(seen.error).toBeUndefined();
      expect(seen.content).toBe('alpha beta gamma delta');
      expect(seen.reasoning).toBe('thinking it over');
      expect(seen.finishes).toEqual(['stop']);
      const reasoning = p.supports.reasoningTokens ? 10 : undefined;
      expect(seen.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 40, ...(reasoning ? { completion_tokens_details: { reasoning_tokens: reasoning } } : {}) });
      const row = await expectBilled(gw, requestIdOf(res), { prompt: 50, completion: 40, ...(reasoning ? { reasoning } : {}) });
      expect(row.stream).toBe(true);
      expect(row.ttftMs).not.toBeNull();
    });

    it('streams tool calls with stable indexes and distinct ids that the client reassembles', async () => {
      const [a] = emulators();
      a.setScript({
        text: 'Let me look.',
        toolCalls: [
          { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } },
          { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
        ],
        chunks: 3,
      });
      const s = await shared();
      const final = await client.chat.completions.stream({ ...hello(s.model), tools: [weatherTool, timeTool] }).finalChatCompletion();
      const message = final.choices[0]!.message;
      expect(final.choices[0]!.finish_reason).toBe('tool_calls');
      expect(message.content).toBe('Let me look.');
      expect(message.tool_calls).toHaveLength(2);
      expect(message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } });
      expect(message.tool_calls![1]).toMatchObject({ type: 'function', function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' } });
      expect(message.tool_calls![0]!.id).toMatch(p.toolCallId);
      expect(message.tool_calls![0]!.id).not.toBe(message.tool_calls![1]!.id);
    });

    it('streams JSON mode as content', async () => {
      const [a] = emulators();
      a.setScript({ ...p.jsonScript({ answer: 42, unit: 'none' }), chunks: 4 });
      const s = await shared();
      const final = await client.chat.completions.stream({ ...hello(s.model), response_format: { type: 'json_object' } }).finalChatCompletion();
      expect(JSON.parse(final.choices[0]!.message.content!)).toEqual({ answer: 42, unit: 'none' });
      expect(final.choices[0]!.message.tool_calls ?? []).toEqual([]);
      expect(final.choices[0]!.finish_reason).toBe('stop');
    });

    it('an error event mid-stream reaches the client as an error, with no retry, and the usage so far is billed', async () => {
      const [a, b] = emulators();
      a.setScript({ text: 'one two three four five six', chunks: 6 });
      a.enqueue({ errorEventAfterEvents: p.eventsWithText });
      const s = await route();
      const res = await client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
      const seen = await drain(res.data);
      expect(seen.error).toBeInstanceOf(Error);
      expect(seen.error!.message).toMatch(p.streamErrorMessage);
      expect(seen.content.length).toBeGreaterThan(0);
      expect(seen.content).not.toBe('one two three four five six');
      expect(b.requests).toHaveLength(0);
      const row = await usageRow(gw, requestIdOf(res));
      expect(row.status).toBe('error');
      expect(row.promptTokens).toBeGreaterThan(0);
      expect(row.completionTokens).toBeGreaterThan(0);
      expect(Number(row.cost)).toBeGreaterThan(0);
    });

    it('a malformed frame mid-stream is an error for the client, not a retry', async () => {
      const [a, b] = emulators();
      a.setScript({ text: 'one two three four', chunks: 4 });
      a.enqueue({ malformedAfterEvents: p.eventsWithText });
      const s = await route();
      const res = await client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
      const seen = await drain(res.data);
      expect(seen.error).toBeInstanceOf(Error);
      expect(seen.error!.message).toMatch(/malformed/);
      expect(seen.content.length).toBeGreaterThan(0);
      expect(b.requests).toHaveLength(0);
      expect((await usageRow(gw, requestIdOf(res))).status).toBe('error');
    });

    it('a stream that fails before its first chunk fails over: cut, error event, or an error status', async () => {
      const [a, b] = emulators();
      a.enqueue({ cutAfterEvents: 0 }, { errorEventAfterEvents: 0 }, { status: p.overloadedStatus });
      b.setScript({ text: 'from B' });
      const s = await route();
      for (let i = 0; i < 3; i++) {
        const res = await client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
        const seen = await drain(res.data);
        expect(seen.error).toBeUndefined();
        expect(seen.content).toBe('from B');
        expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
      }
      expect(a.requests).toHaveLength(3);
      expect(b.requests).toHaveLength(3);
    });

    it('passes a client abort to the upstream at once, bills what was produced, and leaves the key healthy', async () => {
      const [a] = emulators();
      a.setScript({ text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10', chunks: 10 });
      a.setDefault({ eventDelayMs: 100 });
      const s = await route({ onlyA: true });
      const abortsBefore = a.aborted();
      const controller = new AbortController();
      const res = await client.chat.completions.create({ ...hello(s.model), stream: true }, { signal: controller.signal }).withResponse();
      await abortAfterContent(res.data, controller, 2);
      await a.waitForAborts(abortsBefore + 1);
      const requestId = requestIdOf(res);
      await expect.poll(async () => (await usageRow(gw, requestId)).status).toBe('aborted');
      const row = await usageRow(gw, requestId);
      expect(row.completionTokens).toBeGreaterThan(0);
      expect(row.completionTokens).toBeLessThan(10);
      // The client leaving says nothing about the key.
      expect(gw.gateway.health.snapshot(s.keyIds[0]!, p.id)).toMatchObject({ state: 'healthy', inFlight: 0, requests: 0, lastError: null, successRate: 1 });
    });

    it('the request timeout bounds the whole call, failover included: 408, and the hung upstreams are aborted', async () => {
      const [a, b] = emulators();
      // A answers 500 after 200 ms; B accepts the stream, then stalls before its first event.
      a.setDefault({ status: 500, latencyMs: 200 });
      b.setDefault({ firstByteDelayMs: 5_000 });
      const s = await route();
      const abortsBefore = b.aborted();
      const started = Date.now();
      const err = await errorOf(client.chat.completions.create({ ...hello(s.model), stream: true, timeout: 0.5 } as OpenAI.ChatCompletionCreateParamsStreaming));
      expect(err.status).toBe(408);
      expect(Date.now() - started).toBeLessThan(3_000);
      await b.waitForAborts(abortsBefore + 1);
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(1);
    });
  });

  describe('errors and failover', () => {
    it('fails over on overloaded and 504 answers; the client sees one clean answer, billed to the key that gave it', async () => {
      const [a, b] = emulators();
      a.enqueue({ status: p.overloadedStatus }, { status: 504 });
      b.setScript({ text: 'B is fine', usage: { input: 8, output: 4 } });
      const s = await route();
      const res = await client.chat.completions.create(hello(s.model)).withResponse();
      expect(res.data.choices[0]!.message.content).toBe('B is fine');
      expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(1);
      const row = await expectBilled(gw, requestIdOf(res), { prompt: 8, completion: 4 });
      expect(row.upstreamKeyId).toBe(s.keyIds[1]);
      expect(gw.gateway.health.snapshot(s.keyIds[0]!, p.id).lastError).toMatch(new RegExp(`${p.overloadedStatus}.*overloaded`, 'i'));
      const second = await client.chat.completions.create(hello(s.model)).withResponse();
      expect(second.response.headers.get('x-gateway-attempts')).toBe('2');
      expect(b.requests).toHaveLength(2);
    });

    it('every key failing is a 503 that shows no key material', async () => {
      const [a, b] = emulators();
      a.setDefault({ status: 500 });
      b.setDefault({ status: 503 });
      const s = await route();
      const err = await errorOf(client.chat.completions.create(hello(s.model)));
      expect(err.status).toBe(503);
      expect(JSON.stringify(err.error)).not.toContain('sk-test');
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(1);
    });

    it('disables a key whose credentials the upstream rejects, and answers from the next', async () => {
      const strict = await p.start({ validKeys: ['good-key'] });
      try {
        strict.setScript({ text: 'valid key answered' });
        const s = await route({ keys: [{ baseUrl: strict.url, secret: 'revoked-key' }, { baseUrl: strict.url, secret: 'good-key' }] });
        const res = await client.chat.completions.create(hello(s.model)).withResponse();
        expect(res.data.choices[0]!.message.content).toBe('valid key answered');
        expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
        expect(strict.requests.map(p.sentKey)).toEqual(['revoked-key', 'good-key']);
        await expect.poll(() => keyRow(s.keyIds[0]!)).toMatchObject({ status: 'disabled', disabledReason: expect.stringMatching(p.rejectedKeyReason) });
        expect(gw.gateway.health.snapshot(s.keyIds[0]!, p.id).state).toBe('disabled');
        await gw.gateway.pool.reload();
        await client.chat.completions.create(hello(s.model));
        expect(strict.requests).toHaveLength(3);
        expect(p.sentKey(strict.requests[2]!)).toBe('good-key');
      } finally {
        await strict.close();
      }
    });

    it('cools a key down on 429, honouring retry-after', async () => {
      const [a, b] = emulators();
      a.enqueue({ status: 429, retryAfter: 40 });
      const s = await route();
      const first = await client.chat.completions.create(hello(s.model));
      expect(first.choices[0]!.message.content).toBe(p.defaultText);
      await client.chat.completions.create(hello(s.model));
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(2);
      const health = gw.gateway.health.snapshot(s.keyIds[0]!, p.id);
      expect(health.state).toBe('cooling_down');
      const left = Date.parse(health.cooldownUntil!) - Date.now();
      expect(left).toBeGreaterThan(35_000);
      expect(left).toBeLessThanOrEqual(40_000);
    });

    it('a 400 from the upstream is the client’s: passed on as a 400, no failover, key untouched', async () => {
      const [a, b] = emulators();
      a.enqueue({ status: 400, message: 'temperature: must be <= 2' });
      const s = await shared();
      const err = await errorOf(client.chat.completions.create(hello(s.model)));
      expect(err.status).toBe(400);
      expect(err.message).toContain('temperature: must be <= 2');
      expect(b.requests).toHaveLength(0);
      expect(gw.gateway.health.snapshot(s.keyIds[0]!, p.id).state).toBe('healthy');
    });
  });

  describe.runIf(p.supports.embeddings)('embeddings', () => {
    it('embeds a batch with dimensions, as base64 or floats, billing the input', async () => {
      const s = await route({ kind: 'embedding', onlyA: true });
      const input = ['the quick brown fox', 'jumps over the lazy dog'];
      // The openai client asks for base64 by default and decodes it.
      const res = await client.embeddings.create({ model: s.model, input, dimensions: 16 }).withResponse();
      expect(res.data.data.map((d) => d.index)).toEqual([0, 1]);
      for (const d of res.data.data) expect(d.embedding).toHaveLength(16);
      expect(res.data.data[0]!.embedding).not.toEqual(res.data.data[1]!.embedding);
      expect(res.data.model).toBe(s.model);
      const tokens = res.data.usage.prompt_tokens;
      if (p.embeddingUsage === 'counted') expect(tokens).toBe(input.reduce((sum, text) => sum + countTextTokens(text), 0));
      expect(res.data.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
      const row = await expectBilled(gw, requestIdOf(res), { prompt: tokens, completion: 0 });
      expect(row).toMatchObject({ endpoint: 'embeddings', provider: p.id });

      const floats = await client.embeddings.create({ model: s.model, input: 'the quick brown fox', dimensions: 16, encoding_format: 'float' });
      expect(floats.data[0]!.embedding).toEqual(res.data.data[0]!.embedding);
    });

    it('fails over between keys for embeddings too', async () => {
      const [a] = emulators();
      a.enqueue({ status: 500 });
      const s = await route({ kind: 'embedding' });
      const res = await client.embeddings.create({ model: s.model, input: 'hello', dimensions: 8 }).withResponse();
      expect(res.data.data[0]!.embedding).toHaveLength(8);
      expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    });
  });

  p.quirks?.(env);
});
