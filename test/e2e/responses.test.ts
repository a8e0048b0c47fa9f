// POST /v1/responses, non-stream, through the official openai client: the
// mock in test mode, then the three provider emulators (exact cost,
// structured output reaching each upstream as its own field, failover).
// Every body is checked against OpenAI's OpenAPI spec.
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { projects, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let test: OpenAI;
const emulators: Record<'openai' | 'anthropic' | 'gemini', Emulator[]> = { openai: [], anthropic: [], gemini: [] };

beforeAll(async () => {
  const [g, oa, ob, an, ge] = await Promise.all([startGateway(), startOpenAIEmulator(), startOpenAIEmulator(), startAnthropicEmulator(), startGeminiEmulator()]);
  gw = g as TestGateway;
  emulators.openai = [oa as Emulator, ob as Emulator];
  emulators.anthropic = [an as Emulator];
  emulators.gemini = [ge as Emulator];
  test = gw.client((await gw.project()).secret);
});
afterAll(async () => {
  await gw?.close();
  for (const e of Object.values(emulators).flat()) await e.close();
});
beforeEach(() => {
  for (const e of Object.values(emulators).flat()) e.reset();
});

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

async function usageOf(requestId: string) {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  return row!;
}

const expectValid = (body: unknown) => expect(openapiErrors('Response', body)).toEqual([]);
/** Our error body is OpenAI's except that `code` carries the HTTP status (errors.test.ts). */
const expectOpenAIError = (error: unknown, status: number) => {
  expect(error).toMatchObject({ code: status, message: expect.any(String), type: expect.any(String) });
  expect(openapiErrors('ErrorResponse', { error: { ...(error as object), code: String(status) } })).toEqual([]);
};

describe('responses in test mode', () => {
  it('answers a string input as a completed response with output_text and usage, recorded on the responses endpoint, nothing charged', async () => {
    const { secret, projectId } = await gw.project({ balance: '5' });
    const { data, response } = await gw.client(secret).responses.create({ model: 'gpt-4o-mini', input: 'Hello there', instructions: 'Be brief.', metadata: { run: 'a' } }).withResponse();
    expectValid(data);
    expect(data).toMatchObject({ object: 'response', status: 'completed', model: 'gpt-4o-mini', instructions: 'Be brief.', metadata: { run: 'a' }, error: null, incomplete_details: null, store: true });
    expect(data.id).toMatch(/^resp_/);
    expect(data.output_text).toContain('Hello there');
    const message = data.output[0]!;
    expect(message).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', annotations: [] }] });
    expect(message.id).toMatch(/^msg_/);
    expect(data.usage!.input_tokens).toBeGreaterThan(5);
    expect(data.usage!.total_tokens).toBe(data.usage!.input_tokens + data.usage!.output_tokens);

    const requestId = response.headers.get('x-request-id')!;
    const row = await usageOf(requestId);
    expect(row).toMatchObject({ endpoint: 'responses', status: 'ok', test: true, stream: false, promptTokens: data.usage!.input_tokens, completionTokens: data.usage!.output_tokens, cost: '0.000000000000' });
    const [project] = await gw.database.db.select().from(projects).where(eq(projects.id, projectId));
    expect(project).toMatchObject({ balance: '5.000000000000', reserved: '0.000000000000' });
  });

  it('keeps the response for retrieve unless store is false', async () => {
    const kept = await test.responses.create({ model: 'gpt-4o-mini', input: 'keep me' });
    expect(await test.responses.retrieve(kept.id)).toMatchObject({ id: kept.id, status: 'completed', store: true, output_text: kept.output_text });
    const dropped = await test.responses.create({ model: 'gpt-4o-mini', input: 'forget me', store: false });
    expect(dropped).toMatchObject({ store: false });
    const err = await test.responses.retrieve(dropped.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('takes a list of items: developer and user messages with text parts, an earlier assistant turn', async () => {
    const data = await test.responses.create({
      model: 'gpt-4o-mini',
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: 'first question' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'first answer', annotations: [] }] } as unknown as OpenAI.Responses.ResponseInputItem,
        { role: 'user', content: [{ type: 'input_text', text: 'second ' }, { type: 'input_text', text: 'question' }] },
      ],
    });
    expectValid(data);
    expect(data.output_text).toContain('second question');
  });

  it('round-trips a tool call: a function_call item, then its function_call_output in the next input', async () => {
    const first = await test.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Paris?', tools: [weather] });
    expectValid(first);
    const call = first.output.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('expected a function call');
    expect(call.id).toMatch(/^fc_/);
    expect(JSON.parse(call.arguments)).toEqual({ city: expect.any(String) });
    expect(first.tools).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: weather.parameters, strict: false }]);

    const second = await test.responses.create({
      model: 'gpt-4o-mini',
      tools: [weather],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' },
      ],
    });
    expectValid(second);
    expect(second.output_text).toContain('{"temp":21}');
  });

  it('stops at max_output_tokens with status incomplete and the reason', async () => {
    const data = await test.responses.create({ model: 'gpt-4o-mini', input: 'Tell me a long story', max_output_tokens: 16 });
    expectValid(data);
    expect(data.status).toBe('incomplete');
    expect(data.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(data.usage!.output_tokens).toBe(16);
    expect(data.max_output_tokens).toBe(16);
  });

  it('X-Mock-Scenario errors come back in the OpenAI error shape', async () => {
    const err = await test.responses.create({ model: 'gpt-4o-mini', input: 'x' }, { headers: { 'X-Mock-Scenario': 'error-429' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const apiError = err as InstanceType<typeof OpenAI.RateLimitError>;
    expectOpenAIError(apiError.error, 429);
    expect(apiError.headers.get('retry-after')).toBe('1');
    const bad = await test.responses.create({ model: 'gpt-4o-mini', input: 'x' }, { headers: { 'X-Mock-Scenario': 'error-400' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('refuses a tool type it cannot serve with a 400 naming it, and records the refusal', async () => {
    const { secret, projectId } = await gw.project();
    const err = await gw
      .client(secret)
      .responses.create({ model: 'gpt-4o-mini', input: 'x', tools: [{ type: 'web_search' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.error).toMatchObject({ type: 'invalid_request_error', param: 'tools.0.type' });
    expect(apiError.message).toContain('"web_search"');
    expectOpenAIError(apiError.error, 400);
    const rows = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(rows).toMatchObject([{ status: 'rejected', httpStatus: 400, endpoint: 'responses', modelId: 'gpt-4o-mini' }]);
  });

  it('refuses fields it cannot honour by name, and input item types it does not serve', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ conversation: 'conv_1' }, 'conversation', /Conversations API/],
      [{ truncation: 'auto' }, 'truncation', /auto/],
      [{ include: ['message.output_text.logprobs'] }, 'include', /reasoning.encrypted_content/],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input.0.type', /"item_reference" is not supported/],
      [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input.0.content', /part 0 has type "input_file", which is not supported/],
      [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] }, 'input.0.content', /image_url.*file ids are not served/],
    ];
    for (const [extra, param, message] of cases) {
      const res = await fetch(`${gw.baseURL}/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${test.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', input: 'x', ...extra }),
      });
      const body = (await res.json()) as { error: { param: string; message: string } };
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(body.error.param).toBe(param);
      expect(body.error.message).toMatch(message);
    }
  });
});

const liveClient = async () => gw.client((await gw.project({ mode: 'live', balance: '100' })).secret);
let n = 0;
async function route(provider: 'openai' | 'anthropic' | 'gemini', keys = emulators[provider === 'openai' ? 'openai' : provider].slice(0, 1)) {
  const id = `resp-${provider}-${++n}`;
  await liveModel(gw, { id, provider, upstreamModel: `${id}-up`, keys: keys.map((e) => ({ baseUrl: e.url })) });
  return id;
}

describe.each(['openai', 'anthropic', 'gemini'] as const)('responses over %s', (provider) => {
  it('bills the usage the upstream reported, cached tokens at their price, on the responses endpoint', async () => {
    const [a] = emulators[provider];
    a!.setScript({ text: 'Exact.', usage: { input: 120, output: 30, cached: 20 } });
    const model = await route(provider);
    const { data, response } = await (await liveClient()).responses.create({ model, input: 'Hello there' }).withResponse();
    expectValid(data);
    expect(data.output_text).toBe('Exact.');
    expect(data.usage).toEqual({
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 20, cache_write_tokens: 0 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 150,
    });
    // 100 uncached × 1 + 20 cached × 0.5 + 30 × 2 = 170 per 1M.
    const row = await usageOf(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'responses', status: 'ok', test: false, provider, promptTokens: 120, completionTokens: 30, cachedTokens: 20, cost: '0.000170000000' });
  });

  it('sends text.format json_schema as the upstream’s structured output', async () => {
    const [a] = emulators[provider];
    if (provider === 'anthropic') a!.setScript({ toolCalls: [{ name: 'json_tool_call', arguments: { answer: 42 } }] });
    else a!.setScript({ text: '{"answer":42}' });
    const model = await route(provider);
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    const data = await (await liveClient()).responses.create({ model, input: 'The answer?', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
    expectValid(data);
    expect(JSON.parse(data.output_text)).toEqual({ answer: 42 });
    expect(data.text).toEqual({ format: { type: 'json_schema', name: 'answer', schema, strict: true } });
    const sent = a!.requests[0]!.body;
    if (provider === 'openai') expect(sent.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } });
    if (provider === 'anthropic') {
      expect(sent.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
      expect(sent.tools[0]).toMatchObject({ name: 'json_tool_call', input_schema: schema });
    }
    if (provider === 'gemini') {
      expect(sent.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseSchema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] } });
    }
  });
});

describe('responses over openai-wire upstreams', () => {
  it('sends instructions, items, tools and the one output cap as a chat completions request', async () => {
    const [a] = emulators.openai;
    a!.setScript({ text: 'ok' });
    const model = await route('openai');
    await (await liveClient()).responses.create({
      model,
      instructions: 'Be terse.',
      max_output_tokens: 50,
      temperature: 0.5,
      reasoning: { effort: 'low' },
      tools: [weather],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Lyon"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
    });
    const sent = a!.requests[0]!;
    expect(sent.path).toMatch(/\/chat\/completions$/);
    expect(sent.body).toMatchObject({
      model: `${model}-up`,
      max_completion_tokens: 50,
      temperature: 0.5,
      reasoning_effort: 'low',
      parallel_tool_calls: false,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: weather.parameters, strict: false } }],
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    expect(sent.body.max_tokens).toBeUndefined();
  });

  it('an upstream failing before the first byte fails over to the second key, as chat does', async () => {
    const [a, b] = emulators.openai;
    a!.enqueue({ status: 503 });
    b!.setScript({ text: 'from B', usage: { input: 8, output: 4 } });
    const model = await route('openai', emulators.openai);
    const { data, response } = await (await liveClient()).responses.create({ model, input: 'hi' }).withResponse();
    expectValid(data);
    expect(data.output_text).toBe('from B');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(a!.requests).toHaveLength(1);
    expect(b!.requests).toHaveLength(1);
    expect(await usageOf(response.headers.get('x-request-id')!)).toMatchObject({ endpoint: 'responses', status: 'ok', cost: '0.000016000000' });
  });

  it('renders reasoning as a reasoning item, and reasoning tokens in the usage', async () => {
    const [a] = emulators.openai;
    a!.setScript({ text: 'Forty-two.', reasoning: 'Six times seven.', usage: { input: 10, output: 30, reasoning: 12 } });
    const model = await route('openai');
    const data = await (await liveClient()).responses.create({ model, input: 'Why?', reasoning: { effort: 'high' } });
    expectValid(data);
    expect(data.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(data.output[0]).toMatchObject({ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Six times seven.' }] });
    expect(data.usage!.output_tokens_details.reasoning_tokens).toBe(12);
    expect(data.reasoning).toEqual({ effort: 'high', summary: null });
  });
});
