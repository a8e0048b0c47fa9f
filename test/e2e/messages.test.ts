// The Messages door (POST /v1/messages, count_tokens) driven by
// @anthropic-ai/sdk against Anthropic, OpenAI-wire and Gemini emulators: the
// same cases for each upstream, then what only an Anthropic upstream keeps
// (cache_control, signed thinking), errors as the SDK's own classes, and
// test mode.
import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { countPromptTokens } from '../../src/tokens/count-tokens.js';
import { promptToChat } from '../../src/core/doors/messages/to-chat.js';
import { usageRecords } from '../../src/db/schema.js';
import { useMessagesGateway, usageRow, WIRES, weatherTool } from './messages-support.js';

const env = useMessagesGateway();
const hello = (model: string) => ({ model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Hello there' }] });

describe.each(WIRES)('Messages door × %s upstream', (wire) => {
  it('messages.create answers a message with text, end_turn and usage, billed on a messages row', async () => {
    env.emulator(wire).setScript({ text: 'Bonjour.', usage: { input: 12, output: 3 } });
    const { data, response } = await env.client().messages.create(hello(env.model(wire))).withResponse();
    expect(data).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: env.model(wire),
      content: [{ type: 'text', text: 'Bonjour.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(data.id).toMatch(/^msg_/);
    const row = await usageRow(env.gw(), response.headers.get('x-request-id')!);
    // 12 × 1 + 3 × 2 per 1M.
    expect(row).toMatchObject({ endpoint: 'messages', status: 'ok', provider: wire, promptTokens: 12, completionTokens: 3, cost: '0.000018000000' });
  });

  it('sends system, sampling, stop sequences and metadata.user_id on in its wire', async () => {
    const e = env.emulator(wire);
    e.setScript({ text: 'ok' });
    await env.client().messages.create({
      ...hello(env.model(wire)),
      system: 'Be terse.',
      // Sampling fields the SDK's newest types leave out; the Messages API still takes them.
      ...({ temperature: 0.3, top_p: 0.9 } as object),
      stop_sequences: ['END'],
      metadata: { user_id: 'user-7' },
    });
    const body = e.requests.at(-1)!.body;
    if (wire === 'anthropic') {
      expect(body).toMatchObject({ system: [{ type: 'text', text: 'Be terse.' }], temperature: 0.3, top_p: 0.9, stop_sequences: ['END'], metadata: { user_id: 'user-7' }, max_tokens: 200 });
    } else if (wire === 'openai') {
      expect(body).toMatchObject({ messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hello there' }], temperature: 0.3, top_p: 0.9, stop: ['END'], user: 'user-7', max_completion_tokens: 200 });
    } else {
      expect(body).toMatchObject({ systemInstruction: { parts: [{ text: 'Be terse.' }] }, generationConfig: { temperature: 0.3, topP: 0.9, stopSequences: ['END'], maxOutputTokens: 200 } });
    }
  });

  it('top_k reaches Anthropic and Gemini in their own field; an OpenAI-wire upstream gets it as sent', async () => {
    const e = env.emulator(wire);
    await env.client().messages.create({ ...hello(env.model(wire)), ...({ top_k: 5 } as object) });
    const body = e.requests.at(-1)!.body;
    if (wire === 'gemini') expect(body.generationConfig.topK).toBe(5);
    else expect(body.top_k).toBe(5);
  });

  it('messages.stream assembles the final message', async () => {
    env.emulator(wire).setScript({ text: 'Streamed answer here.', usage: { input: 20, output: 5 }, chunks: 4 });
    const stream = env.client().messages.stream(hello(env.model(wire)));
    const final = await stream.finalMessage();
    expect(final).toMatchObject({ model: env.model(wire), content: [{ type: 'text', text: 'Streamed answer here.' }], stop_reason: 'end_turn', usage: { input_tokens: 20, output_tokens: 5 } });
  });

  it('a tool use round trip: tool_use, then the tool_result turn', async () => {
    const e = env.emulator(wire);
    e.setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }] });
    const first = await env.client().messages.create({ ...hello(env.model(wire)), tools: [weatherTool], tool_choice: { type: 'auto' } });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Lyon' } });
    expect(use.id).toBeTruthy();

    e.setScript({ text: 'It is sunny in Lyon.' });
    const second = await env.client().messages.create({
      ...hello(env.model(wire)),
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Lyon?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 24C' }] },
      ],
    });
    expect(second).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'It is sunny in Lyon.' }] });
    const body = e.requests.at(-1)!.body;
    if (wire === 'anthropic') {
      expect(body.messages[1].content).toEqual([{ type: 'tool_use', id: use.id, name: 'get_weather', input: { city: 'Lyon' } }]);
      expect(body.messages[2].content).toEqual([{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'Sunny, 24C' }] }]);
    } else if (wire === 'openai') {
      expect(body.messages[2]).toEqual({ role: 'tool', tool_call_id: use.id, content: [{ type: 'text', text: 'Sunny, 24C' }] });
    } else {
      expect(JSON.stringify(body.contents)).toContain('functionResponse');
    }
  });

  it('streams a tool use the SDK parses into its input object', async () => {
    env.emulator(wire).setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const final = await env.client().messages.stream({ ...hello(env.model(wire)), tools: [weatherTool] }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } });
  });

  it("thinking: the budget becomes the upstream's reasoning control and the reasoning a thinking block", async () => {
    const e = env.emulator(wire);
    e.setScript({ reasoning: 'Weighing it up.', text: 'Forty-two.' });
    const res = await env.client().messages.create({ ...hello(env.model(wire)), max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } });
    const body = e.requests.at(-1)!.body;
    if (wire === 'anthropic') expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    else if (wire === 'openai') expect(body).toMatchObject({ reasoning_effort: 'medium' });
    else expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 2048, includeThoughts: true });
    expect(body.thinking_budget).toBeUndefined();
    expect(res.content[0]).toMatchObject({ type: 'thinking', thinking: 'Weighing it up.' });
    expect(res.content[1]).toEqual({ type: 'text', text: 'Forty-two.' });
    // Only Anthropic signs its reasoning.
    const signature = (res.content[0] as Anthropic.ThinkingBlock).signature;
    if (wire === 'anthropic') expect(signature.length).toBeGreaterThan(0);
    else expect(signature).toBe('');
  });

  it('countTokens: exact from an upstream that counts (Anthropic, Gemini), else our estimate, labelled in a header', async () => {
    env.emulator(wire).setScript({ usage: { input: 77, output: 1 } });
    const body = { model: env.model(wire), system: 'Be terse.', messages: [{ role: 'user' as const, content: 'How many tokens is this?' }], tools: [weatherTool] };
    const { data, response } = await env.client().messages.countTokens(body).withResponse();
    if (wire === 'openai') {
      const chat = promptToChat(body as never);
      expect(data).toEqual({ input_tokens: countPromptTokens(chat.messages, chat.tools) });
      expect(response.headers.get('x-gateway-token-count')).toBe('estimate');
      expect(env.emulator(wire).requests).toHaveLength(0);
      return;
    }
    expect(data).toEqual({ input_tokens: 77 });
    expect(response.headers.get('x-gateway-token-count')).toBe('exact');
    const sent = env.emulator(wire).requests.at(-1)!;
    if (wire === 'anthropic') {
      expect(sent.path).toBe('/v1/messages/count_tokens');
      // count_tokens refuses max_tokens and the other fields a Messages body has.
      expect(Object.keys(sent.body).sort()).toEqual(['messages', 'model', 'system', 'tools']);
    } else {
      expect(sent.path).toMatch(/:countTokens$/);
    }
    // Free, as upstream: no usage row.
    await env.gw().gateway.metering.idle();
    const rows = await env.gw().database.db.select().from(usageRecords).where(eq(usageRecords.id, response.headers.get('x-request-id')!));
    expect(rows).toHaveLength(0);
  });

  it('an upstream 400 is a BadRequestError in Anthropic shape', async () => {
    const model = await env.freshModel(wire);
    env.emulator(wire).enqueue({ status: 400, message: 'bad thing' });
    const err = await env.client().messages.create(hello(model)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('bad thing') } });
  });

  it('every upstream attempt failing for load is a 529 overloaded_error (InternalServerError)', async () => {
    const model = await env.freshModel(wire);
    env.emulator(wire).setDefault({ status: wire === 'anthropic' ? 529 : 503 });
    try {
      const err = await env.client().messages.create(hello(model)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
      expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    } finally {
      env.emulator(wire).setDefault(undefined);
    }
  });

  it('an error after the stream began is an error event the SDK raises', async () => {
    const model = await env.freshModel(wire);
    env.emulator(wire).setScript({ text: 'one two three four five six', chunks: 6 });
    env.emulator(wire).enqueue({ errorEventAfterEvents: wire === 'anthropic' ? 6 : 3 });
    const stream = env.client().messages.stream(hello(model));
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
  });
});

describe('errors raised by the gateway, as the SDK classes', () => {
  it('no key or a wrong key: AuthenticationError', async () => {
    const err = await env.clientWith('pk_live_nope').messages.create(hello(env.model('anthropic'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('a model the project may not use: PermissionDeniedError', async () => {
    const project = await env.gw().project({ mode: 'live', models: [env.model('openai')] });
    const err = await env.clientWith(project.secret).messages.create(hello(env.model('anthropic'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'permission_error' } });
  });

  it('an unknown model: NotFoundError', async () => {
    const err = await env.client().messages.create(hello('no-such-model')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('a body without max_tokens: BadRequestError naming it', async () => {
    const err = await env.client().messages.create({ model: env.model('anthropic'), messages: [{ role: 'user', content: 'x' }] } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
  });

  it('a thinking budget not below max_tokens: BadRequestError', async () => {
    const err = await env.client().messages.create({ ...hello(env.model('anthropic')), max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 2000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.APIError>).message).toMatch(/thinking\.budget_tokens/);
  });

  it('over the key rate limit: RateLimitError with retry-after', async () => {
    const project = await env.gw().project({ mode: 'live', rpmLimit: 1 });
    const client = env.clientWith(project.secret);
    await client.messages.create(hello(env.model('openai')));
    const err = await client.messages.create(hello(env.model('openai'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBeTruthy();
  });

  it("a balance that cannot cover the request: 402 billing_error (the SDK's PaymentRequiredError)", async () => {
    const project = await env.gw().project({ mode: 'live', balance: '0' });
    const err = await env.clientWith(project.secret).messages.create(hello(env.model('openai'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'billing_error' } });
  });

  it('malformed JSON, an unknown path under /v1/messages and /api/v1: errors in Anthropic shape', async () => {
    const url = env.gw().url;
    const headers = { 'x-api-key': env.liveKey(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
    const bad = await fetch(`${url}/v1/messages`, { method: 'POST', headers, body: '{"model":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const unknown = await fetch(`${url}/v1/messages/batches`, { method: 'POST', headers, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const noKey = await fetch(`${url}/api/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('count_tokens needs a valid key and the model permission', async () => {
    const body = { model: env.model('anthropic'), messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(env.clientWith('pk_live_nope').messages.countTokens(body)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const project = await env.gw().project({ mode: 'live', models: [env.model('openai')] });
    await expect(env.clientWith(project.secret).messages.countTokens(body)).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
  });
});

describe('carried blocks: natively to Anthropic, left out for OpenAI', () => {
  it('cache_control on system blocks, tools, message blocks and tool results reaches the upstream where it was', async () => {
    const e = env.emulator('anthropic');
    const eph = { type: 'ephemeral' as const };
    await env.client().messages.create({
      ...hello(env.model('anthropic')),
      system: [
        { type: 'text', text: 'You are a coding agent.' },
        { type: 'text', text: 'Long stable instructions.', cache_control: eph },
      ],
      tools: [{ ...weatherTool, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?', cache_control: eph }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Hot', cache_control: eph }] },
      ],
    });
    const body = e.requests.at(-1)!.body;
    expect(body.system).toEqual([
      { type: 'text', text: 'You are a coding agent.' },
      { type: 'text', text: 'Long stable instructions.', cache_control: eph },
    ]);
    expect(body.tools).toEqual([{ name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.input_schema, cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    expect(body.messages[0].content).toEqual([{ type: 'text', text: 'Weather?', cache_control: eph }]);
    expect(body.messages[2].content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Hot' }], cache_control: eph }]);
  });

  it('an OpenAI upstream gets the same turn without the carriage it would refuse', async () => {
    const e = env.emulator('openai');
    await env.client().messages.create({
      ...hello(env.model('openai')),
      system: [{ type: 'text', text: 'Stable.', cache_control: { type: 'ephemeral' } }],
      tools: [{ ...weatherTool, cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather?', cache_control: { type: 'ephemeral' } }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Signed elsewhere.', signature: 'sig' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Hot', is_error: true, cache_control: { type: 'ephemeral' } }] },
      ],
    });
    const body = e.requests.at(-1)!.body;
    expect(JSON.stringify(body)).not.toMatch(/cache_control|thinking_blocks|is_error|reasoning_content/);
    expect(body.messages).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'Stable.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: [{ type: 'text', text: 'Hot' }] },
    ]);
  });

  it("cache_control on an OpenAI chat request's content part reaches the upstream", async () => {
    const e = env.emulator('anthropic');
    const openai = env.gw().client(env.liveKey());
    await openai.chat.completions.create({
      model: env.model('anthropic'),
      max_tokens: 50,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Stable prefix.', cache_control: { type: 'ephemeral' } } as never] },
        { role: 'user', content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral' } } as never] },
      ],
    });
    const body = e.requests.at(-1)!.body;
    expect(body.system).toEqual([{ type: 'text', text: 'Stable prefix.', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages[0].content).toEqual([{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral' } }]);
  });

  it('thinking blocks and signatures come back intact, and a tool loop keeps thinking on', async () => {
    const e = env.emulator('anthropic');
    e.setScript({ reasoning: 'Need the weather tool.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Nice' } }] });
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const first = await env.client().messages.stream({ ...hello(env.model('anthropic')), max_tokens: 2048, thinking, tools: [weatherTool] }).finalMessage();
    const block = first.content[0] as Anthropic.ThinkingBlock;
    expect(block).toMatchObject({ type: 'thinking', thinking: 'Need the weather tool.' });
    expect(block.signature).toBe(Buffer.from(`emulator-signature:${block.thinking.length}:${block.thinking.slice(0, 16)}`).toString('base64'));
    const use = first.content[1] as Anthropic.ToolUseBlock;

    e.setScript({ reasoning: 'Now answer.', text: 'Warm.' });
    await env.client().messages.create({
      ...hello(env.model('anthropic')),
      max_tokens: 2048,
      thinking,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Nice?' },
        { role: 'assistant', content: [...first.content, { type: 'redacted_thinking', data: 'opaque' }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '25C', is_error: false }] },
      ],
    });
    const body = e.requests.at(-1)!.body;
    expect(body.thinking).toEqual(thinking);
    expect(body.messages[1].content).toEqual([
      { type: 'thinking', thinking: block.thinking, signature: block.signature },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'tool_use', id: use.id, name: 'get_weather', input: { city: 'Nice' } },
    ]);
  });

  it('an is_error tool result and an image inside a tool result reach the upstream', async () => {
    const e = env.emulator('anthropic');
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
    await env.client().messages.create({
      ...hello(env.model('anthropic')),
      messages: [
        { role: 'user', content: 'Screenshot it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'shot', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_9', is_error: true, content: [{ type: 'text', text: 'partial' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }] },
          ],
        },
      ],
    });
    expect(e.requests.at(-1)!.body.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_9', content: [{ type: 'text', text: 'partial' }], is_error: true },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
    ]);
  });

  it('the anthropic-beta header is passed on, minus betas that change the price', async () => {
    const e = env.emulator('anthropic');
    const client = env.clientWith(env.liveKey(), { defaultHeaders: { 'anthropic-beta': 'interleaved-thinking-2025-05-14,context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14' } });
    await client.messages.create(hello(env.model('anthropic')));
    expect(e.requests.at(-1)!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14');
  });

  it('cache reads and writes: the usage the client sees and the row, at exact cost', async () => {
    const e = env.emulator('anthropic');
    e.setScript({ text: 'cached', usage: { input: 1000, cached: 600, cacheWrite: 200, cacheWrite1h: 100, output: 50 } });
    // A prompt longer than what the upstream reports, so the reservation covers the reported usage.
    const { data, response } = await env.client().messages.create({ ...hello(env.model('anthropic')), messages: [{ role: 'user', content: 'cache '.repeat(1200) }] }).withResponse();
    expect(data.usage).toMatchObject({
      input_tokens: 100,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
      output_tokens: 50,
    });
    const row = await usageRow(env.gw(), response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'messages', promptTokens: 1000, cachedTokens: 600, cacheWriteTokens: 200, cacheWrite1hTokens: 100, completionTokens: 50 });
    // The test model's prices per 1M: input 1, cached 0.5, writes 1 (5m and 1h), output 2:
    // 100 × 1 + 600 × 0.5 + 200 × 1 + 100 × 1 + 50 × 2 = 100 + 300 + 200 + 100 + 100 = 800.
    expect(row.cost).toBe('0.000800000000');
  });
});

describe('test mode (pk_test_ keys)', () => {
  it('answers in Messages shape, text, tool use and stream, with nothing upstream', async () => {
    const { secret } = await env.gw().project({ mode: 'test' });
    const client = env.clientWith(secret);
    const text = await client.messages.create(hello(env.model('anthropic')));
    expect(text).toMatchObject({ type: 'message', stop_reason: 'end_turn', content: [{ type: 'text', text: expect.stringContaining('test-mode reply') }] });
    const tool = await client.messages.create({ ...hello(env.model('anthropic')), tools: [weatherTool] });
    expect(tool.stop_reason).toBe('tool_use');
    expect(tool.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: expect.any(String) } });
    const streamed = await client.messages.stream(hello(env.model('anthropic'))).finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: 'text', text: text.content[0]!.type === 'text' ? text.content[0]!.text : '' });
    const counted = await client.messages.countTokens({ model: env.model('anthropic'), messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(counted.response.headers.get('x-gateway-token-count')).toBe('estimate');
    expect(env.emulator('anthropic').requests).toHaveLength(0);
  });

  it('X-Mock-Scenario errors come in Anthropic shape as the SDK classes', async () => {
    const { secret } = await env.gw().project({ mode: 'test' });
    const cases = [
      ['error-400', Anthropic.BadRequestError, 'invalid_request_error'],
      ['error-401', Anthropic.AuthenticationError, 'authentication_error'],
      ['error-403', Anthropic.PermissionDeniedError, 'permission_error'],
      ['error-429', Anthropic.RateLimitError, 'rate_limit_error'],
      ['error-500', Anthropic.InternalServerError, 'api_error'],
      ['error-503', Anthropic.InternalServerError, 'overloaded_error'],
    ] as const;
    for (const [scenario, cls, type] of cases) {
      const client = env.clientWith(secret, { defaultHeaders: { 'x-mock-scenario': scenario } });
      const err = await client.messages.create(hello(env.model('anthropic'))).catch((e: unknown) => e);
      expect(err, scenario).toBeInstanceOf(cls);
      expect((err as InstanceType<typeof Anthropic.APIError>).error, scenario).toMatchObject({ type: 'error', error: { type } });
    }
    const broken = env.clientWith(secret, { defaultHeaders: { 'x-mock-scenario': 'stream-break' } });
    await expect(broken.messages.stream(hello(env.model('anthropic'))).finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
  });
});
