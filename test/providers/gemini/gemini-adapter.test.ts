import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { createGeminiAdapter, geminiUrl } from '../../../src/providers/gemini/gemini-adapter.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { startGeminiEmulator, type Emulator } from '../../emulators/index.js';
import { assemble } from '../helpers/replay.js';
import { contextFor, drain, rejectionOf } from '../helpers/context.js';

const adapter = createGeminiAdapter();
const MODEL = 'gemini-2.5-flash';
const request = (extra: Record<string, unknown> = {}): ChatRequest =>
  chatRequestSchema.parse({
    model: 'gem',
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

describe('geminiUrl', () => {
  it('builds v1beta model URLs from an origin, with or without models/', () => {
    expect(geminiUrl('https://generativelanguage.googleapis.com/', 'models/gemini-2.5-pro', 'generateContent')).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent',
    );
  });
});

describe('Gemini adapter against the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startGeminiEmulator({ validKeys: ['test-upstream-key'] });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('chat posts generateContent with the key header and returns an OpenAI completion', async () => {
    emu.setScript({ text: 'Hello!', usage: { input: 9, output: 3 } });
    const res = await adapter.chat(request({ temperature: 0.4, max_tokens: 50 }), contextFor(emu, 'gemini', MODEL));
    const sent = emu.requests[0]!;
    expect(sent.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(sent.headers['x-goog-api-key']).toBe('test-upstream-key');
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      generationConfig: { temperature: 0.4, maxOutputTokens: 50 },
    });
    expect(res.choices[0]!.message.content).toBe('Hello!');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
  });

  it('chat returns function calls as tool_calls and sends their results back by name', async () => {
    emu.setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const first = await adapter.chat(request({ tools: [weatherTool] }), contextFor(emu, 'gemini', MODEL));
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_/);
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    emu.setScript({ text: 'Sunny.' });
    await adapter.chat(
      request({
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
        ],
      }),
      contextFor(emu, 'gemini', MODEL),
    );
    expect(emu.requests[1]!.body.contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { content: 'sunny' } } }],
    });
  });

  it('chatStream uses alt=sse and streams thoughts, text, finish and usage', async () => {
    emu.setScript({ text: 'Hello world', reasoning: 'Be friendly.', usage: { input: 4, output: 10, reasoning: 6 } });
    const stream = await adapter.chatStream(request({ stream: true, think: true }), contextFor(emu, 'gemini', MODEL));
    const { chunks, error } = await drain(stream.chunks);
    expect(error).toBeUndefined();
    const sent = emu.requests[0]!;
    expect(sent.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(sent.query.alt).toBe('sse');
    expect(sent.body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } });
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(assemble(chunks)).toMatchObject({ content: 'Hello world', reasoning: 'Be friendly.', finish: 'stop' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 4, completion_tokens_details: { reasoning_tokens: 6 } });
  });

  it('streams function calls with finish_reason tool_calls', async () => {
    emu.setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] });
    const stream = await adapter.chatStream(request({ stream: true, tools: [weatherTool] }), contextFor(emu, 'gemini', MODEL));
    const assembled = assemble((await drain(stream.chunks)).chunks);
    expect(assembled.finish).toBe('tool_calls');
    expect(assembled.tools).toEqual([{ id: expect.stringMatching(/^call_/), name: 'get_weather', arguments: '{"city":"Rome"}' }]);
  });

  it('a stream cut before the finish throws a retryable ProviderError', async () => {
    emu.enqueue({ cutAfterEvents: 1 });
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'gemini', MODEL));
    const { error } = await drain(stream.chunks);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('an invalid key (400 API_KEY_INVALID) is key_fatal, without the key in the message', async () => {
    const err = (await rejectionOf(adapter.chat(request(), contextFor(emu, 'gemini', MODEL, undefined, 'AIzaSyWRONGWRONGWRONGWRONG')))) as ProviderError;
    expect(err.errorClass).toBe('key_fatal');
    expect(err.upstreamStatus).toBe(400);
    expect(err.message).not.toContain('WRONG');
  });

  it.each([
    [{ status: 400 }, 'client'],
    [{ status: 403 }, 'key_fatal'],
    [{ status: 404 }, 'client'],
    [{ status: 500 }, 'retryable'],
    [{ status: 503 }, 'retryable'],
    [{ status: 504 }, 'retryable'],
  ])('classifies %j', async (fault, errorClass) => {
    emu.enqueue(fault);
    const err = (await rejectionOf(adapter.chatStream(request({ stream: true }), contextFor(emu, 'gemini', MODEL)))) as ProviderError;
    expect(err.errorClass).toBe(errorClass);
  });

  it('takes the retry delay of a 429', async () => {
    emu.enqueue({ status: 429, retryAfter: 7 });
    const err = (await rejectionOf(adapter.chat(request(), contextFor(emu, 'gemini', MODEL)))) as ProviderError;
    expect(err.errorClass).toBe('retryable');
    expect(err.retryAfterMs).toBe(7000);
  });

  it('embeds through batchEmbedContents with outputDimensionality and counts tokens', async () => {
    const res = await adapter.embed({ model: 'e', input: ['hello', 'world'], dimensions: 16 }, contextFor(emu, 'gemini', 'gemini-embedding-001'));
    const sent = emu.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(sent.body.requests[0]).toEqual({ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] }, outputDimensionality: 16 });
    expect(res.data).toHaveLength(2);
    expect(res.data[1]!.index).toBe(1);
    expect((res.data[0]!.embedding as number[]).length).toBe(16);
    expect(res.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('aborting mid-stream stops the iteration and closes the upstream connection', async () => {
    emu.enqueue({ eventDelayMs: 60_000 });
    emu.setScript({ text: 'one two three', chunks: 3 });
    const controller = new AbortController();
    const stream = await adapter.chatStream(request({ stream: true }), contextFor(emu, 'gemini', MODEL, controller.signal));
    const iterator = stream.chunks[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    // The first event's content chunk is already parsed; it is not handed out after the abort.
    expect(await rejectionOf(iterator.next())).toBeInstanceOf(ProviderError);
    await emu.waitForAborts(1);
  });
});
