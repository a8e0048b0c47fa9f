// The gateway in front of the Anthropic Messages API emulator, driven with
// the official openai client: translation both ways (checked on the body the
// emulator received), streams, billing, failover and error mapping.
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { upstreamKeys } from '../../src/db/schema.js';
import { type Emulator, startAnthropicEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { errorOf, expectBilled, usageRow } from './provider-support.js';

let gw: TestGateway;
let a: Emulator;
let b: Emulator;
let n = 0;
beforeAll(async () => {
  [gw, a, b] = await Promise.all([startGateway(), startAnthropicEmulator(), startAnthropicEmulator()]);
});
afterAll(async () => {
  await gw?.close();
  await a?.close();
  await b?.close();
});
beforeEach(() => {
  a.reset();
  b.reset();
});

/** A fresh public model over Anthropic keys A (tried first) and B, and a live key for it. */
async function setup(options: { onlyA?: boolean } = {}) {
  const model = `claude-e2e-${++n}`;
  const upstreamModel = `claude-up-${n}`;
  const keys = options.onlyA ? [{ baseUrl: a.url }] : [{ baseUrl: a.url }, { baseUrl: b.url }];
  const keyIds = await liveModel(gw, { id: model, provider: 'anthropic', upstreamModel, keys, maxOutputTokens: 8192 });
  const project = await gw.project({ mode: 'live', balance: '10' });
  return { model, upstreamModel, keyIds, ...project, client: gw.client(project.secret) };
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const timeTool = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
};
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello Claude' }] });
type WithReasoning = { reasoning_content?: string | null };

describe('Anthropic through the gateway: translation', () => {
  it('translates a full request (system, images, tool history, tools, stop, user) and the answer back, billing cached tokens exactly', async () => {
    a.setScript({ text: 'Checking the weather.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }], usage: { input: 120, output: 30, cached: 20 } });
    const s = await setup();
    const res = await s.client.chat.completions
      .create({
        model: s.model,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'Answer in English.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these, and the weather?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            ],
          },
          { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_prev', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'toolu_prev', content: 'Sunny, 21C' },
        ],
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        stop: ['END', 'STOP'],
        temperature: 0.5,
        top_p: 0.9,
        user: 'user-42',
      })
      .withResponse();

    const sent = a.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(`sk-test-${s.model}-0`);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.body).toEqual({
      model: s.upstreamModel,
      // No max_tokens in the request: the catalogue's ceiling, which is what the gateway reserved for.
      max_tokens: 8192,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Answer in English.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these, and the weather?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_prev', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_prev', content: [{ type: 'text', text: 'Sunny, 21C' }] }] },
      ],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      stop_sequences: ['END', 'STOP'],
      temperature: 0.5,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
    });

    const choice = res.data.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Checking the weather.');
    expect(choice.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
    ]);
    expect(res.data.model).toBe(s.model);
    expect(res.data.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 20 } });
    expect(res.response.headers.get('x-gateway-route')).toBe(`anthropic/${s.upstreamModel}`);

    // 100 uncached × 1 + 20 cached × 0.5 + 30 × 2 = 170 per 1M.
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 120, completion: 30, cached: 20 });
    expect(row).toMatchObject({ provider: 'anthropic', upstreamModel: s.upstreamModel, upstreamKeyId: s.keyIds[0], cost: '0.000170000000' });
  });

  it('merges the results of parallel tool calls into one user turn of tool_result blocks', async () => {
    const s = await setup({ onlyA: true });
    await s.client.chat.completions.create({
      model: s.model,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_t', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_w', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'toolu_t', content: [{ type: 'text', text: '14:00' }] },
      ],
      tools: [weatherTool, timeTool],
    });
    expect(a.requests[0]!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather and time in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_w', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_t', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_w', content: [{ type: 'text', text: 'Sunny' }] },
          { type: 'tool_result', tool_use_id: 'toolu_t', content: [{ type: 'text', text: '14:00' }] },
        ],
      },
    ]);
  });

  it('maps tool_choice auto/required/none and a max_tokens the client set', async () => {
    const s = await setup({ onlyA: true });
    for (const tool_choice of ['auto', 'required', 'none'] as const) {
      await s.client.chat.completions.create({ ...hello(s.model), tools: [weatherTool], tool_choice, max_completion_tokens: 300 });
    }
    expect(a.requests.map((r) => r.body.tool_choice)).toEqual([{ type: 'auto' }, { type: 'any' }, { type: 'none' }]);
    expect(a.requests.map((r) => r.body.max_tokens)).toEqual([300, 300, 300]);
  });

  it('think → thinking with a budget, thinking blocks → reasoning_content', async () => {
    a.setScript({ text: 'Forty-two.', reasoning: 'Six times seven.', usage: { input: 10, output: 25 } });
    const s = await setup({ onlyA: true });
    const res = await s.client.chat.completions
      .create({ ...hello(s.model), max_tokens: 3000, think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect(a.requests[0]!.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1500 }, max_tokens: 3000 });
    expect(a.requests[0]!.body.temperature).toBeUndefined();
    const message = res.data.choices[0]!.message as OpenAI.ChatCompletionMessage & WithReasoning;
    expect(message.content).toBe('Forty-two.');
    expect(message.reasoning_content).toBe('Six times seven.');
    await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 10, completion: 25 });

    await s.client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'high' });
    expect(a.requests[1]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  });

  it('deepsearch and web_search_options → the server-side web_search tool', async () => {
    const s = await setup({ onlyA: true });
    await s.client.chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await s.client.chat.completions.create({ ...hello(s.model), tools: [weatherTool], web_search_options: { search_context_size: 'high' } });
    expect(a.requests[0]!.body.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search' }]);
    expect(a.requests[1]!.body.tools).toEqual([
      { name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.function.parameters },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 10 },
    ]);
  });

  it('response_format json_schema → a forced tool whose input comes back as the content', async () => {
    a.setScript({ toolCalls: [{ name: 'json_tool_call', arguments: { answer: 42 } }] });
    const s = await setup({ onlyA: true });
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
    const res = await s.client.chat.completions.create({
      ...hello(s.model),
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    });
    expect(a.requests[0]!.body.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    expect(a.requests[0]!.body.tools[0]).toMatchObject({ name: 'json_tool_call', input_schema: schema });
    expect(res.choices[0]!.message.content).toBe('{"answer":42}');
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('max_tokens stop reason → finish_reason length, in answers and streams', async () => {
    a.setScript({ text: 'cut short', finishReason: 'length' });
    const s = await setup({ onlyA: true });
    const res = await s.client.chat.completions.create({ ...hello(s.model), max_tokens: 3 });
    expect(res.choices[0]!.finish_reason).toBe('length');
    const final = await s.client.chat.completions.stream({ ...hello(s.model), max_tokens: 3 }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('length');
    expect(final.choices[0]!.message.content).toBe('cut short');
  });

  it('refuses an option Anthropic cannot honour with a 400 naming it, without calling upstream', async () => {
    const s = await setup();
    const err = await errorOf(s.client.chat.completions.create({ ...hello(s.model), seed: 7 }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('seed');
    const n2 = await errorOf(s.client.chat.completions.create({ ...hello(s.model), n: 2 }));
    expect(n2.status).toBe(400);
    expect(n2.message).toContain('n > 1');
    expect(a.requests).toHaveLength(0);
    expect(b.requests).toHaveLength(0);
    expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic').state).toBe('healthy');
  });
});

describe('Anthropic through the gateway: streams', () => {
  it('streams text and reasoning_content, and bills the usage of message_delta', async () => {
    a.setScript({ text: 'alpha beta gamma delta', reasoning: 'thinking it over', chunks: 4, usage: { input: 50, output: 40 } });
    const s = await setup({ onlyA: true });
    const res = await s.client.chat.completions
      .create({ ...hello(s.model), stream: true, stream_options: { include_usage: true }, think: true } as OpenAI.ChatCompletionCreateParamsStreaming)
      .withResponse();
    let content = '';
    let reasoning = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    const finishes: string[] = [];
    for await (const chunk of res.data) {
      const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & WithReasoning) | undefined;
      content += delta?.content ?? '';
      reasoning += delta?.reasoning_content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(a.requests[0]!.body).toMatchObject({ stream: true, thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(content).toBe('alpha beta gamma delta');
    expect(reasoning).toBe('thinking it over');
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 40 });
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 50, completion: 40 });
    expect(row.stream).toBe(true);
    expect(row.ttftMs).not.toBeNull();
  });

  it('streams tool calls with stable indexes that the client reassembles', async () => {
    a.setScript({
      text: 'Let me look.',
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } },
        { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
      ],
      chunks: 3,
    });
    const s = await setup({ onlyA: true });
    const final = await s.client.chat.completions
      .stream({ ...hello(s.model), tools: [weatherTool, timeTool] })
      .finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.content).toBe('Let me look.');
    expect(message.tool_calls).toHaveLength(2);
    expect(message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } });
    expect(message.tool_calls![1]).toMatchObject({ type: 'function', function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' } });
    expect(message.tool_calls![0]!.id).toMatch(/^toolu_/);
    expect(message.tool_calls![0]!.id).not.toBe(message.tool_calls![1]!.id);
  });

  it('a mid-stream error event reaches the client as an error, with no retry, and the usage so far is billed', async () => {
    a.setScript({ text: 'one two three four five six', chunks: 6 });
    // message_start, content_block_start, ping, two text deltas, then the error event.
    a.enqueue({ errorEventAfterEvents: 5 });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of res.data) text += chunk.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/overloaded/i);
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toBe('one two three four five six');
    expect(b.requests).toHaveLength(0);
    const row = await usageRow(gw, res.response.headers.get('x-request-id')!);
    expect(row.status).toBe('error');
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.promptTokens).toBeGreaterThan(0);
    expect(Number(row.cost)).toBeGreaterThan(0);
  });

  it('streams the forced JSON tool as content', async () => {
    a.setScript({ toolCalls: [{ name: 'json_tool_call', arguments: { answer: 42, unit: 'none' } }], chunks: 4 });
    const s = await setup({ onlyA: true });
    const final = await s.client.chat.completions
      .stream({ ...hello(s.model), response_format: { type: 'json_object' } })
      .finalChatCompletion();
    expect(JSON.parse(final.choices[0]!.message.content!)).toEqual({ answer: 42, unit: 'none' });
    expect(final.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(final.choices[0]!.finish_reason).toBe('stop');
  });

  it('a malformed frame mid-stream is an error for the client, not a retry', async () => {
    a.setScript({ text: 'one two three four', chunks: 4 });
    a.enqueue({ malformedAfterEvents: 4 });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of res.data) text += chunk.choices[0]?.delta.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/malformed/);
    expect(text.length).toBeGreaterThan(0);
    expect(b.requests).toHaveLength(0);
    expect((await usageRow(gw, res.response.headers.get('x-request-id')!)).status).toBe('error');
  });

  it('an overloaded error event before any content fails over to the next key', async () => {
    a.enqueue({ errorEventAfterEvents: 0 });
    b.setScript({ text: 'from B' });
    const s = await setup();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }).withResponse();
    let text = '';
    for await (const chunk of res.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('from B');
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
  });

  it('passes a client abort to the upstream at once', async () => {
    a.setScript({ text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10', chunks: 10 });
    a.setDefault({ eventDelayMs: 100 });
    const s = await setup({ onlyA: true });
    const controller = new AbortController();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }, { signal: controller.signal }).withResponse();
    let seen = 0;
    await (async () => {
      for await (const chunk of res.data) {
        if (chunk.choices[0]?.delta.content) seen++;
        if (seen === 2) controller.abort();
      }
    })().catch(() => undefined);
    await a.waitForAborts(1);
    const requestId = res.response.headers.get('x-request-id')!;
    await expect.poll(async () => (await usageRow(gw, requestId)).status).toBe('aborted');
    // The client leaving says nothing about the key.
    const health = gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic');
    expect(health).toMatchObject({ state: 'healthy', inFlight: 0, requests: 0, lastError: null, successRate: 1 });
  });
});

describe('Anthropic through the gateway: errors and failover', () => {
  it('fails over to the second key on 529 overloaded; the client sees one clean answer', async () => {
    a.enqueue({ status: 529 });
    b.setScript({ text: 'B is fine', usage: { input: 8, output: 4 } });
    const s = await setup();
    const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('B is fine');
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(1);
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 8, completion: 4 });
    expect(row.upstreamKeyId).toBe(s.keyIds[1]);
    expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic').lastError).toMatch(/529.*overloaded/);
  });

  it('fails over on 529 before a stream starts', async () => {
    a.enqueue({ status: 529 });
    b.setScript({ text: 'streamed by B' });
    const s = await setup();
    const final = await s.client.chat.completions.stream(hello(s.model)).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('streamed by B');
  });

  it('disables a key Anthropic rejects with 401 authentication_error', async () => {
    a.enqueue({ status: 401 });
    const s = await setup();
    const res = await s.client.chat.completions.create(hello(s.model));
    expect(res.choices[0]!.message.content).toBe('Hello from the anthropic emulator.');
    await expect.poll(async () => (await gw.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, s.keyIds[0]!)))[0]!.status).toBe('disabled');
    expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic').state).toBe('disabled');
  });

  it('cools a key down on 429 rate_limit_error, honouring retry-after', async () => {
    a.enqueue({ status: 429, retryAfter: 40 });
    const s = await setup();
    await s.client.chat.completions.create(hello(s.model));
    await s.client.chat.completions.create(hello(s.model));
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(2);
    const health = gw.gateway.health.snapshot(s.keyIds[0]!, 'anthropic');
    expect(health.state).toBe('cooling_down');
    const left = Date.parse(health.cooldownUntil!) - Date.now();
    expect(left).toBeGreaterThan(35_000);
    expect(left).toBeLessThanOrEqual(40_000);
  });

  it('a 400 invalid_request_error from Anthropic reaches the client as a 400 without failover', async () => {
    a.enqueue({ status: 400, message: 'messages.0.content: text must not be blank' });
    const s = await setup();
    const err = await errorOf(s.client.chat.completions.create(hello(s.model)));
    expect(err.status).toBe(400);
    expect(err.message).toContain('text must not be blank');
    expect(b.requests).toHaveLength(0);
  });
});
