// POST /v1/responses with stream: true: the typed event sequence, in order,
// each event checked against OpenAI's OpenAPI spec, the final response
// assembled by the official client, and billing as for chat streams
// (exact cost, a client that leaves mid-answer charged for what it got).
import { eq } from 'drizzle-orm';
import { createParser } from 'eventsource-parser';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { type Emulator, startAnthropicEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let openai: Emulator;
let anthropic: Emulator;
let test: OpenAI;

beforeAll(async () => {
  const [g, o, a] = await Promise.all([startGateway(), startOpenAIEmulator(), startAnthropicEmulator()]);
  gw = g as TestGateway;
  openai = o as Emulator;
  anthropic = a as Emulator;
  test = gw.client((await gw.project()).secret);
});
afterAll(async () => {
  await gw?.close();
  await openai?.close();
  await anthropic?.close();
});
beforeEach(() => {
  openai.reset();
  anthropic.reset();
});

interface SseEvent {
  event: string | undefined;
  data: { type: string; sequence_number: number; [k: string]: any };
}

/** Every SSE event of a raw response, its `event:` name and parsed data. */
async function rawEvents(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ events: SseEvent[]; res: Response }> {
  const res = await fetch(`${gw.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${test.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ stream: true, ...body }),
  });
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: JSON.parse(e.data) }) });
  const decoder = new TextDecoder();
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(part, { stream: true }));
  return { events, res };
}

/** Each event valid against the spec, named by its `event:` line, numbered 0, 1, 2… */
function expectWellFormed(events: SseEvent[]): void {
  expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  for (const e of events) {
    expect(e.event).toBe(e.data.type);
    expect(openapiErrors('ResponseStreamEvent', e.data), e.data.type).toEqual([]);
  }
}

const requestIdOf = (res: Response) => res.headers.get('x-request-id')!;
async function usageOf(requestId: string) {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  return row!;
}

describe('response streams in test mode', () => {
  it('sends the typed events in order, and the client assembles the final response', async () => {
    const { events, res } = await rawEvents({ model: 'gpt-4o-mini', input: 'Stream please' });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expectWellFormed(events);
    const types = events.map((e) => e.data.type);
    const deltas = types.filter((t) => t === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThanOrEqual(3);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = events.at(-1)!.data.response;
    expect(openapiErrors('Response', completed)).toEqual([]);
    expect(completed.status).toBe('completed');
    const text = events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta).join('');
    expect(text).toContain('Stream please');
    expect(completed.output[0].content[0].text).toBe(text);
    expect(completed.usage.output_tokens).toBeGreaterThan(0);
    expect(new Set(events.filter((e) => e.data.response).map((e) => e.data.response.id)).size).toBe(1);
    expect(await usageOf(requestIdOf(res))).toMatchObject({ endpoint: 'responses', stream: true, status: 'ok', test: true, completionTokens: completed.usage.output_tokens });

    const stream = test.responses.stream({ model: 'gpt-4o-mini', input: 'Through the SDK' });
    const seen: number[] = [];
    stream.on('event', (e) => seen.push(e.sequence_number));
    const final = await stream.finalResponse();
    // The SDK sets output_text on a streamed response only when it parses structured output.
    const message = final.output[0]!;
    if (message.type !== 'message' || message.content[0]?.type !== 'output_text') throw new Error('expected a text message');
    expect(message.content[0].text).toContain('Through the SDK');
    expect(final.status).toBe('completed');
    expect(seen).toEqual(seen.map((_, i) => i));
  });

  it('stores the streamed response before its last event: retrieve returns what was streamed', async () => {
    const stream = test.responses.stream({ model: 'gpt-4o-mini', input: 'Keep this one' });
    const final = await stream.finalResponse();
    const stored = await test.responses.retrieve(final.id);
    expect(openapiErrors('Response', stored)).toEqual([]);
    expect(stored).toMatchObject({ id: final.id, status: 'completed', output: final.output.map((item) => ({ id: item.id, type: item.type })) });
    expect(stored.output_text).toContain('Keep this one');
  });

  it('streams a function call: the item, its argument deltas, then done with the whole arguments', async () => {
    const tool = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
    const { events } = await rawEvents({ model: 'gpt-4o-mini', input: 'Weather?', tools: [tool] });
    expectWellFormed(events);
    const added = events.find((e) => e.data.type === 'response.output_item.added' && e.data.item.type === 'function_call')!;
    expect(added.data.item).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '', status: 'in_progress' });
    const deltas = events.filter((e) => e.data.type === 'response.function_call_arguments.delta').map((e) => e.data.delta).join('');
    const done = events.find((e) => e.data.type === 'response.function_call_arguments.done')!;
    expect(done.data.arguments).toBe(deltas);
    expect(JSON.parse(deltas)).toEqual({ city: expect.any(String) });
    const final = await test.responses.stream({ model: 'gpt-4o-mini', input: 'Weather?', tools: [tool] }).finalResponse();
    const call = final.output.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
  });

  it('a cap hit ends with response.incomplete and its reason', async () => {
    const { events } = await rawEvents({ model: 'gpt-4o-mini', input: 'Tell me a long story', max_output_tokens: 16 });
    expectWellFormed(events);
    const last = events.at(-1)!.data;
    expect(last.type).toBe('response.incomplete');
    expect(last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, usage: { output_tokens: 16 } });
    expect(events.find((e) => e.data.type === 'response.output_item.done')!.data.item.status).toBe('incomplete');
  });

  it('a stream that breaks after it began ends with an error event and response.failed', async () => {
    const { events, res } = await rawEvents({ model: 'gpt-4o-mini', input: 'break me please now' }, { 'X-Mock-Scenario': 'stream-break' });
    expectWellFormed(events);
    const types = events.map((e) => e.data.type);
    expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    expect(types).toContain('response.output_text.delta');
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: expect.any(String) } });
    expect((await usageOf(requestIdOf(res))).status).toBe('error');
  });

  it('an error before the stream begins is an OpenAI error body, not a stream', async () => {
    const res = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${test.apiKey}`, 'content-type': 'application/json', 'X-Mock-Scenario': 'error-503' },
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'x', stream: true }),
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'service_unavailable', code: 503 } });
  });
});

describe('response streams over live upstreams', () => {
  let n = 0;
  async function route(provider: 'openai' | 'anthropic', emulator: Emulator) {
    const id = `resp-stream-${provider}-${++n}`;
    await liveModel(gw, { id, provider, upstreamModel: `${id}-up`, keys: [{ baseUrl: emulator.url }] });
    return id;
  }
  const live = async () => gw.client((await gw.project({ mode: 'live', balance: '100' })).secret);

  it.each([
    ['openai', () => openai],
    ['anthropic', () => anthropic],
  ] as const)('bills a %s stream at the usage the upstream reported, exactly', async (provider, emulator) => {
    emulator().setScript({ text: 'Streamed exactly.', usage: { input: 120, output: 30, cached: 20 }, chunks: 4 });
    const model = await route(provider, emulator());
    const { data: stream, response } = await (await live()).responses.create({ model, input: 'Hello', stream: true }).withResponse();
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
    expect(completed!.usage).toMatchObject({ input_tokens: 120, output_tokens: 30, input_tokens_details: { cached_tokens: 20 } });
    expect(await usageOf(response.headers.get('x-request-id')!)).toMatchObject({ endpoint: 'responses', stream: true, status: 'ok', provider, cost: '0.000170000000' });
  });

  it('a client that leaves mid-stream is charged for what was produced, and the upstream call is aborted', async () => {
    openai.setScript({ text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10', chunks: 10 });
    openai.setDefault({ eventDelayMs: 30 });
    const model = await route('openai', openai);
    const controller = new AbortController();
    const { data: stream, response } = await (await live()).responses.create({ model, input: 'Count', stream: true }, { signal: controller.signal }).withResponse();
    let deltas = 0;
    try {
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') deltas++;
        if (deltas === 3) controller.abort();
      }
    } catch {
      // The abort, as meant.
    }
    await openai.waitForAborts(1);
    const row = await usageOf(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'responses', status: 'aborted', httpStatus: 499 });
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(Number(row.cost)).toBeGreaterThan(0);
    expect(Number(row.cost)).toBeLessThan(Number(row.reservedCost));
  });
});
