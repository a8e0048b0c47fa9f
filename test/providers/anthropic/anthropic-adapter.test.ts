import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { createAnthropicAdapter } from '../../../src/providers/anthropic/anthropic-adapter.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { startAnthropicEmulator, type Emulator } from '../../emulators/index.js';
import { assemble } from '../helpers/replay.js';
import { contextFor, drain, rejectionOf } from '../helpers/context.js';

const adapter = createAnthropicAdapter();
const MODEL = 'claude-haiku-4-5';
const request = (extra: Record<string, unknown> = {}): ChatRequest =>
  chatRequestSchema.parse({
    model: 'claude',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ],
    ...extra,
  });
const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('Anthropic adapter against the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startAnthropicEmulator();
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('chat sends a Messages request with the auth headers and returns an OpenAI completion', async () => {
    emu.setScript({ text: 'Hello!', usage: { input: 20, output: 3, cached: 5 } });
    const res = await adapter.chat(request(), contextFor(emu, 'anthropic', MODEL));
    const sent = emu.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('test-upstream-key');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.body).toEqual({
      model: MODEL,
      max_tokens: 4096,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]!.message.content).toBe('Hello!');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage.prompt_tokens).toBe(20);
    expect(res.usage.completion_tokens).toBe(3);
    expect(res.usage.prompt_tokens_details?.cached_tokens).toBe(5);
  });

  it('chat returns tool calls and accepts their results next turn', async () => {
    emu.setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const first = await adapter.chat(request({ tools: [weatherTool] }), contextFor(emu, 'anthropic', MODEL));
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    emu.setScript({ text: 'It is sunny in Paris.' });
    const second = await adapter.chat(
      request({
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      }),
      contextFor(emu, 'anthropic', MODEL),
    );
    expect(second.choices[0]!.message.content).toBe('It is sunny in Paris.');
  });

  it('chatStream with think streams reasoning, text, a finish and usage', async () => {
    emu.setScript({ text: 'Hello world', reasoning: 'Greeting is polite.' });
    const stream = await adapter.chatStream(request({ stream: true, think: true }), contextFor(emu, 'anthropic', MODEL));
    const { chunks, error } = await drain(stream.chunks);
    expect(error).toBeUndefined();
    expect(emu.requests[0]!.body).toMatchObject({ stream: true, thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 4096 });
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(assemble(chunks)).toMatchObject({ content: 'Hello world', reasoning: 'Greeting is polite.', finish: 'stop' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams the JSON answer of response_format as content', async () => {
    emu.setScript({ toolCalls: [{ name: 'json_tool_call', arguments: { answer: 42 } }] });
    const stream = await adapter.chatStream(
      request({ stream: true, response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object', properties: { answer: { type: 'number' } } } } } }),
      contextFor(emu, 'anthropic', MODEL),
    );
    const assembled = assemble((await drain(stream.chunks)).chunks);
    expect(JSON.parse(assembled.content)).toEqual({ answer: 42 });
    expect(assembled.tools).toEqual([]);
    expect(assembled.finish).toBe('stop');
  });

  it('an error event mid-stream throws a ProviderError after the chunks before it', async () => {
    emu.enqueue({ errorEventAfterEvents: 4 });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'anthropic', MODEL));
    const { chunks, error } = await drain(stream.chunks);
    expect(chunks.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('a cut stream throws a retryable ProviderError', async () => {
    emu.enqueue({ cutAfterEvents: 3 });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'anthropic', MODEL));
    const { error } = await drain(stream.chunks);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it.each([
    [{ status: 401 }, 'key_fatal'],
    [{ status: 402 }, 'key_fatal'],
    [{ status: 400 }, 'client'],
    [{ status: 413 }, 'client'],
    [{ status: 429, retryAfter: 5 }, 'retryable'],
    [{ status: 500 }, 'retryable'],
    [{ status: 529 }, 'retryable'],
  ] as Array<[{ status: number; retryAfter?: number }, string]>)('classifies %j before the stream starts', async (fault, errorClass) => {
    emu.enqueue(fault);
    const err = (await rejectionOf(adapter.chatStream(request({ stream: true }), contextFor(emu, 'anthropic', MODEL)))) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.errorClass).toBe(errorClass);
    expect(err.upstreamStatus).toBe(fault.status);
    if (errorClass === 'client') expect(err.clientStatus).toBe(fault.status);
    if (fault.retryAfter) expect(err.retryAfterMs).toBe(5000);
  });

  it('rejects what Anthropic cannot do without calling it', async () => {
    const err = (await rejectionOf(adapter.chat(request({ n: 3 }), contextFor(emu, 'anthropic', MODEL)))) as ProviderError;
    expect(err.clientStatus).toBe(400);
    expect(err.message).toContain('n > 1');
    const embed = (await rejectionOf(adapter.embed({ model: 'x', input: 'a' }, contextFor(emu, 'anthropic', MODEL)))) as ProviderError;
    expect(embed.errorClass).toBe('client');
    expect(emu.requests).toHaveLength(0);
  });

  it('aborting the signal aborts the upstream call', async () => {
    emu.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = rejectionOf(adapter.chatStream(request({ stream: true }), contextFor(emu, 'anthropic', MODEL, controller.signal)));
    await emu.waitForRequests(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(ProviderError);
    await emu.waitForAborts(1);
  });
});
