import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { createOpenAIAdapter } from '../../../src/providers/openai/openai-adapter.js';
import { deepseekDialect, openaiDialect } from '../../../src/providers/openai/openai-dialect.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { startOpenAIEmulator, type Emulator } from '../../emulators/index.js';
import { assemble } from '../helpers/replay.js';
import { contextFor, drain, rejectionOf } from '../helpers/context.js';

const adapter = createOpenAIAdapter(openaiDialect);
const request = (extra: Record<string, unknown> = {}): ChatRequest =>
  chatRequestSchema.parse({ model: 'fast', messages: [{ role: 'user', content: 'Say hello' }], ...extra });

describe('OpenAI adapter against the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startOpenAIEmulator();
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('chat sends the pass-through body with the upstream model and key, and returns usage', async () => {
    emu.setScript({ text: 'Hi there!', usage: { input: 12, output: 4, cached: 2 } });
    const res = await adapter.chat(request({ think: true, timeout: 10, mockScenario: 'x', temperature: 0.1 }), contextFor(emu, 'openai', 'o4-mini'));
    expect(res.choices[0]!.message.content).toBe('Hi there!');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, prompt_tokens_details: { cached_tokens: 2 } });

    const sent = emu.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer test-upstream-key');
    expect(sent.body).toEqual({
      model: 'o4-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0.1,
      reasoning_effort: 'medium',
    });
  });

  it('chatStream forces include_usage and ends with a usage chunk, reasoning surfaced', async () => {
    emu.setScript({ text: 'Hello world', reasoning: 'Because.', usage: { input: 5, output: 7, reasoning: 3 } });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'openai', 'gpt-4o-mini'));
    const { chunks, error } = await drain(stream.chunks);
    expect(error).toBeUndefined();
    expect(emu.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    expect(chunks[0]!.choices[0]!.delta).toMatchObject({ role: 'assistant', content: '' });
    expect(assemble(chunks)).toMatchObject({ content: 'Hello world', reasoning: 'Because.', finish: 'stop' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 7, completion_tokens_details: { reasoning_tokens: 3 } });
  });

  it('streams tool calls', async () => {
    emu.setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const stream = await adapter.chatStream(request({ stream: true, tools }), contextFor(emu, 'openai', 'gpt-4o-mini'));
    const { chunks } = await drain(stream.chunks);
    const assembled = assemble(chunks);
    expect(assembled.finish).toBe('tool_calls');
    expect(assembled.tools).toHaveLength(1);
    expect(assembled.tools[0]).toMatchObject({ name: 'get_weather' });
    expect(JSON.parse(assembled.tools[0]!.arguments)).toEqual({ city: 'Paris' });
  });

  it.each([
    [{ status: 401 }, 'key_fatal', undefined],
    [{ status: 403 }, 'key_fatal', undefined],
    [{ status: 400 }, 'client', 400],
    [{ status: 404 }, 'client', 404],
    [{ status: 500 }, 'retryable', undefined],
    [{ status: 503 }, 'retryable', undefined],
  ])('classifies %j on chat and before any stream chunk', async (fault, errorClass, clientStatus) => {
    emu.enqueue(fault, fault);
    const chatError = (await rejectionOf(adapter.chat(request(), contextFor(emu, 'openai', 'gpt-4o-mini')))) as ProviderError;
    expect(chatError).toBeInstanceOf(ProviderError);
    expect(chatError.errorClass).toBe(errorClass);
    expect(chatError.clientStatus).toBe(clientStatus);
    expect(chatError.upstreamStatus).toBe(fault.status);
    const streamError = (await rejectionOf(adapter.chatStream(request({ stream: true }), contextFor(emu, 'openai', 'gpt-4o-mini')))) as ProviderError;
    expect(streamError.errorClass).toBe(errorClass);
  });

  it('reads retry-after on 429', async () => {
    emu.enqueue({ retryAfter: 2 });
    const err = (await rejectionOf(adapter.chat(request(), contextFor(emu, 'openai', 'gpt-4o-mini')))) as ProviderError;
    expect(err.errorClass).toBe('retryable');
    expect(err.retryAfterMs).toBe(2000);
  });

  it('never shows the upstream key in an error message', async () => {
    const key = 'sk-proj-SECRETSECRETSECRET';
    const strict = await startOpenAIEmulator({ validKeys: ['sk-other'] });
    try {
      const err = (await rejectionOf(adapter.chat(request(), contextFor(strict, 'openai', 'gpt-4o-mini', undefined, key)))) as ProviderError;
      expect(err.errorClass).toBe('key_fatal');
      expect(err.message).not.toContain('SECRET');
    } finally {
      await strict.close();
    }
  });

  it('a truncated 2xx body is a bad_response', async () => {
    emu.enqueue({ malformedAfterEvents: 0 });
    const err = (await rejectionOf(adapter.chat(request(), contextFor(emu, 'openai', 'gpt-4o-mini')))) as ProviderError;
    expect(err.errorClass).toBe('bad_response');
  });

  it('a stream cut mid-way throws a retryable ProviderError after the chunks that came', async () => {
    emu.enqueue({ cutAfterEvents: 2 });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'openai', 'gpt-4o-mini'));
    const { chunks, error } = await drain(stream.chunks);
    expect(chunks.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('a malformed frame before any chunk is retryable', async () => {
    emu.enqueue({ malformedAfterEvents: 0 });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'openai', 'gpt-4o-mini'));
    const { chunks, error } = await drain(stream.chunks);
    expect(chunks).toEqual([]);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('aborting the signal aborts a hanging upstream call at once', async () => {
    emu.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = rejectionOf(adapter.chat(request(), contextFor(emu, 'openai', 'gpt-4o-mini', controller.signal)));
    await emu.waitForRequests(1);
    controller.abort();
    const err = (await pending) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toContain('aborted');
    await emu.waitForAborts(1);
  });

  it('aborting mid-stream stops the iteration and closes the upstream connection', async () => {
    emu.enqueue({ eventDelayMs: 60_000 });
    const controller = new AbortController();
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'openai', 'gpt-4o-mini', controller.signal));
    const iterator = stream.chunks[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const next = iterator.next();
    controller.abort();
    const err = await rejectionOf(next);
    expect(err).toBeInstanceOf(ProviderError);
    await emu.waitForAborts(1);
  });

  it('embeds, asking upstream for floats and encoding base64 itself', async () => {
    const floats = await adapter.embed({ model: 'e', input: ['a', 'b'] }, contextFor(emu, 'openai', 'text-embedding-3-small'));
    expect(floats.data).toHaveLength(2);
    expect(Array.isArray(floats.data[0]!.embedding)).toBe(true);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const b64 = await adapter.embed({ model: 'e', input: 'a', encoding_format: 'base64', dimensions: 8 }, contextFor(emu, 'openai', 'text-embedding-3-small'));
    expect(emu.requests[1]!.path).toBe('/v1/embeddings');
    expect(emu.requests[1]!.body).toMatchObject({ encoding_format: 'float', dimensions: 8, model: 'text-embedding-3-small' });
    expect(Buffer.from(b64.data[0]!.embedding as string, 'base64').length).toBe(32);
  });
});

describe('OpenAI adapter transport', () => {
  it('a refused connection is retryable', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = (await rejectionOf(adapter.chat(request(), contextFor({ url: `http://127.0.0.1:${port}/v1` }, 'openai', 'm')))) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.errorClass).toBe('retryable');
  });

  it('DeepSeek: base URL without /v1, thinking switch, usage on the finish chunk', async () => {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        bodies.push({ url: req.url, body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]}\n\n');
        res.write('data: {"id":"d1","object":"chat.completion.chunk","created":1,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n');
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const deepseek = createOpenAIAdapter(deepseekDialect);
      const stream = await deepseek.chatStream(request({ stream: true, think: true }), contextFor({ url }, 'deepseek', 'deepseek-chat'));
      const { chunks, error } = await drain(stream.chunks);
      expect(error).toBeUndefined();
      expect(bodies[0]).toMatchObject({ url: '/chat/completions', body: { model: 'deepseek-chat', thinking: { type: 'enabled' } } });
      expect(assemble(chunks).content).toBe('ok');
      expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { total_tokens: 4 } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
