import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerEntries, projects, usageRecords } from '../../src/db/schema.js';
import { openapiErrors } from '../helpers/openapi.js';
import { readSse } from '../helpers/read-sse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] },
  },
};

describe('chat completions in test mode', () => {
  it('answers non-streaming in the OpenAI shape, records test usage and charges nothing', async () => {
    const { secret, projectId } = await gw.project({ balance: '5' });
    const raw = await gw
      .client(secret)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] })
      .withResponse();
    const completion = raw.data;
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0]!.message.content).toContain('Hello there');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(5);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    expect(openapiErrors('CreateChatCompletionResponse', completion)).toEqual([]);
    const requestId = raw.response.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^req_/);

    await gw.gateway.metering.idle();
    const [usage] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
    expect(usage).toMatchObject({ status: 'ok', test: true, stream: false, modelId: 'gpt-4o-mini', provider: 'mock', promptTokens: completion.usage!.prompt_tokens, completionTokens: completion.usage!.completion_tokens, cost: '0.000000000000' });
    const [project] = await gw.database.db.select().from(projects).where(eq(projects.id, projectId));
    expect(project).toMatchObject({ balance: '5.000000000000', reserved: '0.000000000000' });
    const charges = await gw.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.projectId, projectId));
    expect(charges.map((c) => c.kind)).toEqual(['credit']);
  });

  it('streams several chunks in order, role first, finish then usage, ending with [DONE]', async () => {
    const { secret } = await gw.project();
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.0-flash', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Stream please' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    for (const chunk of chunks) expect(openapiErrors('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const content = chunks.flatMap((c) => c.choices.map((ch: { delta: { content?: string } }) => ch.delta.content ?? '')).join('');
    expect(content).toContain('Stream please');
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThanOrEqual(3);
    const finishIndex = chunks.findIndex((c) => c.choices[0]?.finish_reason === 'stop');
    const usage = chunks.at(-1);
    expect(finishIndex).toBe(chunks.length - 2);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('streams through the official client and leaves usage out unless include_usage is set', async () => {
    const { secret } = await gw.project();
    const stream = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'abc' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('calls a tool when tools are given, non-streaming and streaming', async () => {
    const { secret } = await gw.project();
    const client = gw.client(secret);
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: expect.any(String), days: expect.any(Number) });
    expect(openapiErrors('CreateChatCompletionResponse', completion)).toEqual([]);

    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool] });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]!.message.tool_calls![0]!;
    if (streamed.type !== 'function') throw new Error('expected a function call');
    expect(JSON.parse(streamed.function.arguments)).toEqual({ city: expect.any(String), days: expect.any(Number) });

    const followUp = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
      ],
    });
    expect(followUp.choices[0]!.message.content).toContain('{"temp":21}');
  });

  it('honours max_tokens with finish_reason length', async () => {
    const { secret } = await gw.project();
    const completion = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 3, messages: [{ role: 'user', content: 'Tell me a long story' }] });
    expect(completion.usage!.completion_tokens).toBe(3);
    expect(completion.choices[0]!.finish_reason).toBe('length');
  });
});
