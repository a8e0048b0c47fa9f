import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import {
  startAnthropicEmulator,
  startGeminiEmulator,
  startOpenAIEmulator,
  type Emulator,
} from './index.js';

/** Drain an async iterable, returning what arrived before it ended or threw. */
async function drain<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}

const TOOL = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius', days: [1, 2] } };

// ---------------------------------------------------------------------------
describe('OpenAI emulator', () => {
  let emu: Emulator;
  let client: OpenAI;
  beforeAll(async () => {
    emu = await startOpenAIEmulator();
    client = new OpenAI({ apiKey: 'sk-test', baseURL: emu.url, maxRetries: 0, logLevel: 'off' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('answers a non-stream chat completion the SDK parses', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello in a few words please' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Hello from the openai emulator.' });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage!.prompt_tokens).toBe(Math.ceil('Say hello in a few words please'.length / 4));
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    expect(res._request_id).toMatch(/^req_/);
    const rec = emu.requests[0]!;
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(rec.headers['authorization']).toBe('Bearer sk-test');
    expect(rec.body.messages[0].content).toBe('Say hello in a few words please');
  });

  it('scripts tool calls, reasoning_content and usage (non-stream)', async () => {
    emu.setScript({ reasoning: 'Think first.', toolCalls: [TOOL], usage: { input: 100, output: 40, cached: 60, reasoning: 10 } });
    const res = await client.chat.completions.create({ model: 'deepseek-reasoner', messages: [{ role: 'user', content: 'weather?' }] });
    const msg = res.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(msg.content).toBeNull();
    expect(msg.reasoning_content).toBe('Think first.');
    expect(msg.tool_calls).toHaveLength(1);
    const call = msg.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('unexpected');
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual(TOOL.arguments);
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(res.usage).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 40,
      total_tokens: 140,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 10 },
    });
  });

  it('streams text with a role chunk, a finish chunk, a usage chunk and [DONE]', async () => {
    emu.setScript({ text: 'The quick brown fox jumps.', chunks: 4 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { items, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(items[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(new Set(items.map((c) => c.id)).size).toBe(1);
    const text = items.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('The quick brown fox jumps.');
    expect(items.filter((c) => c.choices[0]?.delta.content).length).toBe(4);
    const finish = items.at(-2)!;
    expect(finish.choices[0]!.finish_reason).toBe('stop');
    expect(finish.usage).toBeNull();
    const usage = items.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('streams tool-call deltas and reasoning_content', async () => {
    emu.setScript({ reasoning: 'Let me check.', toolCalls: [TOOL, { name: 'noop', arguments: {} }] });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { items, error } = await drain(stream);
    expect(error).toBeUndefined();
    const reasoning = items.map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
    expect(reasoning).toBe('Let me check.');
    const calls: Array<{ id?: string; name?: string; args: string }> = [];
    for (const c of items)
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        const slot = (calls[tc.index] ??= { args: '' });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        slot.args += tc.function?.arguments ?? '';
      }
    expect(calls.map((c) => c.name)).toEqual(['get_weather', 'noop']);
    expect(calls.every((c) => c.id?.startsWith('call_'))).toBe(true);
    expect(JSON.parse(calls[0]!.args)).toEqual(TOOL.arguments);
    expect(JSON.parse(calls[1]!.args)).toEqual({});
    expect(items.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    // the SDK's own accumulator agrees
    const final = await client.chat.completions
      .stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls).toHaveLength(2);
  });

  it('serves embeddings: float, base64 (the SDK default) and dimensions', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 8 });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding).toHaveLength(8);
    expect(emu.requests[0]!.body.encoding_format).toBe('base64');
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a', dimensions: 8, encoding_format: 'float' });
    expect(floats.data[0]!.embedding).toEqual(res.data[0]!.embedding);
    expect(Math.hypot(...floats.data[0]!.embedding)).toBeCloseTo(1, 5);
    expect(floats.usage).toEqual({ prompt_tokens: 1, total_tokens: 1 });
    const full = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a' });
    expect(full.data[0]!.embedding).toHaveLength(1536);
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: '' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('lists models', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });

  it('refuses unknown keys with invalid_api_key', async () => {
    const strict = await startOpenAIEmulator({ validKeys: ['sk-good'] });
    try {
      const bad = new OpenAI({ apiKey: 'sk-bad-key-123456', baseURL: strict.url, maxRetries: 0, logLevel: 'off' });
      const err = await bad.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
      const good = new OpenAI({ apiKey: 'sk-good', baseURL: strict.url, maxRetries: 0, logLevel: 'off' });
      await expect(good.models.list()).resolves.toBeDefined();
    } finally {
      await strict.close();
    }
  });

  it('answers model_not_found for models outside `models`, and cuts non-stream bodies', async () => {
    const strict = await startOpenAIEmulator({ models: ['gpt-4o'] });
    try {
      const c = new OpenAI({ apiKey: 'k', baseURL: strict.url, maxRetries: 0, logLevel: 'off' });
      const err = (await c.chat.completions
        .create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.NotFoundError>;
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.code).toBe('model_not_found');
      strict.enqueue({ cutAfterEvents: 0 });
      const cut = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(cut).toBeInstanceOf(Error); // headers arrived, the body read fails ("terminated")
    } finally {
      await strict.close();
    }
  });

  it('applies queued faults in order, then the default', async () => {
    emu.enqueue({ status: 429, retryAfter: 2 }, { status: 500 }, { status: 429, code: 'insufficient_quota' });
    const req = () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    const e1 = await req().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(OpenAI.RateLimitError);
    const rl = e1 as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rl.status).toBe(429);
    expect(rl.headers?.get('retry-after')).toBe('2');
    expect(rl.code).toBe('rate_limit_exceeded');
    expect(rl.type).toBe('requests');
    const e2 = await req().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(OpenAI.InternalServerError);
    expect((e2 as InstanceType<typeof OpenAI.InternalServerError>).type).toBe('server_error');
    const e3 = (await req().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e3.code).toBe('insufficient_quota');
    await expect(req()).resolves.toBeDefined();
    emu.setDefault({ status: 503, message: 'busy' });
    const e4 = (await req().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.InternalServerError>;
    expect(e4.status).toBe(503);
    expect(e4.message).toContain('busy');
    emu.setDefault(undefined);
    await expect(req()).resolves.toBeDefined();
  });

  it('raises an error when the stream is cut', async () => {
    emu.enqueue({ cutAfterEvents: 2 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    const { items, error } = await drain(stream);
    expect(items).toHaveLength(2);
    expect(error).toBeInstanceOf(Error);
    expect(emu.aborted()).toBe(0);
  });

  it('raises an error on a malformed frame', async () => {
    emu.enqueue({ malformedAfterEvents: 1 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    const { items, error } = await drain(stream);
    expect(items).toHaveLength(1);
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it('raises the in-stream error object', async () => {
    emu.enqueue({ errorEventAfterEvents: 2, message: 'upstream broke' });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    const { items, error } = await drain(stream);
    expect(items).toHaveLength(2);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('upstream broke');
  });

  it('delays by latencyMs and firstByteDelayMs', async () => {
    emu.enqueue({ latencyMs: 30 });
    let t0 = performance.now();
    await client.models.list();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);

    emu.enqueue({ firstByteDelayMs: 150 });
    t0 = performance.now();
    const res = await fetch(`${emu.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    const tHeaders = performance.now();
    const reader = res.body!.getReader();
    await reader.read();
    const tFirst = performance.now();
    expect(tFirst - t0).toBeGreaterThanOrEqual(145);
    expect(tFirst - tHeaders).toBeGreaterThanOrEqual(75); // headers came first
    await reader.cancel();
  });

  it('counts client aborts of a hung request', async () => {
    emu.enqueue({ hang: true });
    const before = emu.aborted();
    const ac = new AbortController();
    const p = client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal });
    await emu.waitForRequests(1);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await emu.waitForAborts(before + 1);
    expect(emu.aborted()).toBe(before + 1);
  });

  it('counts client aborts mid-stream and stops writing', async () => {
    emu.enqueue({ eventDelayMs: 20 });
    emu.setScript({ text: 'x'.repeat(50), chunks: 50 });
    const before = emu.aborted();
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    let n = 0;
    for await (const _ of stream) if (++n === 2) break; // break aborts the request
    await emu.waitForAborts(before + 1);
    expect(emu.aborted()).toBe(before + 1);
  });

  it('close() releases hung requests', async () => {
    const other = await startOpenAIEmulator();
    other.setDefault({ hang: true });
    const c = new OpenAI({ apiKey: 'k', baseURL: other.url, maxRetries: 0, logLevel: 'off' });
    const p = c.models.list().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await other.waitForRequests(1);
    await other.close();
    expect(await p).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(other.aborted()).toBe(0);
  });
});

// ---------------------------------------------------------------------------
describe('Anthropic emulator', () => {
  let emu: Emulator;
  let client: Anthropic;
  beforeAll(async () => {
    emu = await startAnthropicEmulator();
    client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: emu.url, maxRetries: 0, logLevel: 'off' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  const base = { model: 'claude-sonnet-4-6', max_tokens: 2048, messages: [{ role: 'user' as const, content: 'Hello there' }] };

  it('answers a non-stream message', async () => {
    emu.setScript({ usage: { input: 50, output: 7, cached: 30 } });
    const msg = await client.messages.create(base);
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'Hello from the anthropic emulator.' }],
      usage: { input_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 0, output_tokens: 7 },
    });
    expect(msg.id).toMatch(/^msg_/);
    // this SDK version sends the key as a bearer token; `x-api-key` is accepted too
    expect(emu.requests[0]!.headers['authorization']).toBe('Bearer sk-ant-test');
    expect(emu.requests[0]!.headers['anthropic-version']).toBeTruthy();
  });

  it('returns thinking and tool_use blocks when thinking is enabled', async () => {
    emu.setScript({ reasoning: 'Hmm.', text: 'Checking.', toolCalls: [TOOL] });
    const msg = await client.messages.create({ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
    const tool = msg.content[2] as Anthropic.ToolUseBlock;
    expect(tool.input).toEqual(TOOL.arguments);
    expect(tool.id).toMatch(/^toolu_/);
    expect(msg.stop_reason).toBe('tool_use');
    // without thinking requested, no thinking block (as the real API)
    const plain = await client.messages.create(base);
    expect(plain.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
  });

  it('streams the real event sequence and the SDK accumulates it', async () => {
    emu.setScript({ reasoning: 'Deep thought.', text: 'Answer text.', toolCalls: [TOOL], usage: { input: 10, output: 33 } });
    const req = { ...base, thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const raw = await client.messages.create({ ...req, stream: true });
    const { items, error } = await drain(raw);
    expect(error).toBeUndefined();
    const types = items.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types.filter((t) => t === 'content_block_start')).toHaveLength(3);
    expect(emu.requests[0]!.body.stream).toBe(true);
    const delta = items.find((e) => e.type === 'message_delta') as Anthropic.RawMessageDeltaEvent;
    expect(delta.delta.stop_reason).toBe('tool_use');
    expect(delta.usage.output_tokens).toBe(33);
    const jsonDeltas = items.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
    expect(jsonDeltas.length).toBeGreaterThan(2);

    const final = await client.messages.stream(req).finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: 'Deep thought.' });
    expect(final.content[1]).toMatchObject({ type: 'text', text: 'Answer text.' });
    expect(final.content[2]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: TOOL.arguments });
    expect(final.usage.output_tokens).toBe(33);
  });

  it('maps fault statuses to the real error types', async () => {
    emu.enqueue({ status: 529 }, { status: 429, retryAfter: 7 }, { status: 500 });
    const e1 = (await client.messages.create(base).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(e1).toBeInstanceOf(Anthropic.InternalServerError);
    expect(e1.status).toBe(529);
    expect(e1.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(e1.requestID).toMatch(/^req_/);
    const e2 = (await client.messages.create(base).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(e2).toBeInstanceOf(Anthropic.RateLimitError);
    expect(e2.headers?.get('retry-after')).toBe('7');
    expect(e2.error).toMatchObject({ error: { type: 'rate_limit_error' } });
    const e3 = (await client.messages.create(base).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(e3.error).toMatchObject({ error: { type: 'api_error' } });
  });

  it('validates like the real API', async () => {
    const err = await client.messages
      .create({ ...base, thinking: { type: 'enabled', budget_tokens: 4096 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain('max_tokens');
    const role = await client.messages
      .create({ ...base, messages: [{ role: 'tool' as 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(role).toBeInstanceOf(Anthropic.BadRequestError);
    const orphan = await client.messages
      .create({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }] }] })
      .catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(Anthropic.BadRequestError);
    expect((orphan as Error).message).toContain('tool_use_id');
    const res = await fetch(`${emu.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify(base),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('refuses unknown keys with authentication_error', async () => {
    const strict = await startAnthropicEmulator({ validKeys: ['good'] });
    try {
      const c = new Anthropic({ apiKey: 'bad', baseURL: strict.url, maxRetries: 0, logLevel: 'off' });
      const err = (await c.messages.create(base).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(err.error).toMatchObject({ error: { type: 'authentication_error' } });
    } finally {
      await strict.close();
    }
  });

  it('raises the mid-stream error event', async () => {
    emu.enqueue({ errorEventAfterEvents: 3 });
    const { items, error } = await drain(await client.messages.create({ ...base, stream: true }));
    expect(items.length).toBeGreaterThanOrEqual(2); // the ping is swallowed by the SDK
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  it('raises an error when the stream is cut or malformed', async () => {
    emu.enqueue({ cutAfterEvents: 1 }, { malformedAfterEvents: 1 });
    const cut = await drain(await client.messages.create({ ...base, stream: true }));
    expect(cut.items.map((e) => e.type)).toEqual(['message_start']);
    expect(cut.error).toBeInstanceOf(Error);
    const bad = await drain(await client.messages.create({ ...base, stream: true }));
    expect(bad.items).toHaveLength(1);
    expect(bad.error).toBeInstanceOf(SyntaxError);
  });

  it('counts an abort during latency', async () => {
    emu.enqueue({ latencyMs: 5_000 });
    const ac = new AbortController();
    const p = client.messages.create(base, { signal: ac.signal });
    await emu.waitForRequests(1);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
    await emu.waitForAborts(1);
  });
});

// ---------------------------------------------------------------------------
describe('Gemini emulator', () => {
  let emu: Emulator;
  let ai: GoogleGenAI;
  beforeAll(async () => {
    emu = await startGeminiEmulator();
    ai = new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: emu.url } });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('answers generateContent with thoughts, text, usage and the model echoed', async () => {
    emu.setScript({ reasoning: 'Pondering.', usage: { input: 12, output: 20, reasoning: 5, cached: 4 } });
    const res = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Hi there',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    expect(res.text).toBe('Hello from the gemini emulator.');
    const parts = res.candidates![0]!.content!.parts!;
    expect(parts[0]).toMatchObject({ text: 'Pondering.', thought: true });
    expect(res.candidates![0]!.finishReason).toBe('STOP');
    expect(res.modelVersion).toBe('gemini-2.5-flash');
    expect(res.usageMetadata).toMatchObject({
      promptTokenCount: 12,
      candidatesTokenCount: 15,
      thoughtsTokenCount: 5,
      cachedContentTokenCount: 4,
      totalTokenCount: 32,
    });
    const rec = emu.requests[0]!;
    expect(rec.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(rec.headers['x-goog-api-key']).toBe('g-key');
    // without includeThoughts the thought part is withheld
    const plain = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
    expect(plain.candidates![0]!.content!.parts!.some((p) => p.thought)).toBe(false);
    expect(plain.usageMetadata!.thoughtsTokenCount).toBe(5);
  });

  it('returns functionCall parts', async () => {
    emu.setScript({ toolCalls: [TOOL] });
    const res = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'weather?' });
    expect(res.functionCalls).toEqual([{ name: 'get_weather', args: TOOL.arguments }]);
    expect(res.candidates![0]!.finishReason).toBe('STOP');
  });

  it('streams whole responses with incremental parts over SSE', async () => {
    emu.setScript({ text: 'one two three four', reasoning: 'hmm', toolCalls: [TOOL], chunks: 2 });
    const stream = await ai.models.generateContentStream({
      model: 'gemini-2.5-pro',
      contents: 'go',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const { items, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(emu.requests[0]!.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent');
    expect(emu.requests[0]!.query).toEqual({ alt: 'sse' });
    const parts = items.flatMap((r) => r.candidates![0]!.content!.parts!);
    expect(parts.filter((p) => p.thought).map((p) => p.text).join('')).toBe('hmm');
    expect(parts.filter((p) => !p.thought && p.text).map((p) => p.text).join('')).toBe('one two three four');
    expect(parts.filter((p) => p.functionCall)).toHaveLength(1);
    expect(items.slice(0, -1).every((r) => r.candidates![0]!.finishReason === undefined)).toBe(true);
    const last = items.at(-1)!;
    expect(last.candidates![0]!.finishReason).toBe('STOP');
    expect(last.usageMetadata!.candidatesTokenCount).toBeGreaterThan(0);
  });

  it('serves embeddings honouring outputDimensionality', async () => {
    const res = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['alpha', 'beta'],
      config: { outputDimensionality: 16 },
    });
    expect(res.embeddings).toHaveLength(2);
    expect(res.embeddings![0]!.values).toHaveLength(16);
    expect(emu.requests[0]!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    const single = await fetch(`${emu.url}/v1beta/models/text-embedding-004:embedContent?key=k`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'alpha' }] } }),
    });
    const body = (await single.json()) as { embedding: { values: number[] } };
    expect(body.embedding.values).toHaveLength(768);
  });

  it('refuses an invalid key with 400 API_KEY_INVALID', async () => {
    const strict = await startGeminiEmulator({ validKeys: ['ok'] });
    try {
      const c = new GoogleGenAI({ apiKey: 'nope', httpOptions: { baseUrl: strict.url } });
      const err = await c.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      const body = JSON.parse((err as ApiError).message);
      expect(body.error.status).toBe('INVALID_ARGUMENT');
      expect(body.error.details[0].reason).toBe('API_KEY_INVALID');
      const viaQuery = await fetch(`${strict.url}/v1beta/models/gemini-2.5-flash:generateContent?key=ok`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
      });
      expect(viaQuery.status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('sends RESOURCE_EXHAUSTED with retry-after and RetryInfo', async () => {
    emu.enqueue({ status: 429, retryAfter: 3 }, { status: 503 });
    const err = (await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(429);
    const body = JSON.parse(err.message);
    expect(body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' });
    const err2 = (await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e: unknown) => e)) as ApiError;
    expect(err2.status).toBe(503);
    expect(JSON.parse(err2.message).error.status).toBe('UNAVAILABLE');
  });

  it('raises errors for a cut stream, a malformed frame and an error object', async () => {
    emu.setScript({ chunks: 4 });
    emu.enqueue({ cutAfterEvents: 1 }, { malformedAfterEvents: 2 }, { errorEventAfterEvents: 1 });
    const run = async () => drain(await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x' }));
    const cut = await run();
    expect(cut.items).toHaveLength(1);
    expect(cut.error).toBeInstanceOf(Error);
    const bad = await run();
    expect(bad.items).toHaveLength(2);
    expect(bad.error).toBeInstanceOf(Error);
    const errored = await run();
    expect(errored.items).toHaveLength(1);
    expect(errored.error).toBeInstanceOf(ApiError);
    expect((errored.error as ApiError).status).toBe(503);
  });

  it('counts an aborted stream', async () => {
    emu.enqueue({ firstByteDelayMs: 5_000 });
    const ac = new AbortController();
    const p = ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'x', config: { abortSignal: ac.signal } });
    await emu.waitForRequests(1);
    ac.abort();
    await p.then((s) => drain(s)).catch(() => undefined);
    await emu.waitForAborts(1);
    expect(emu.aborted()).toBe(1);
  });
});
