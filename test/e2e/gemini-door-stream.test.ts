// streamGenerateContent on the Gemini door through Google's GenAI SDK,
// against each kind of upstream: text assembled from the chunks, function
// calls whole, thoughts when asked, usageMetadata and finishReason on the
// last chunk, a failure after the first byte as Google's error chunk, the
// JSON-array stream without alt=sse, and the usage row of each stream.
import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { readSse } from '../helpers/read-sse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { usageRow } from './provider-support.js';

const UPSTREAMS = [
  // Stream events before the text has reached the client, where a mid-stream fault goes.
  { id: 'openai', start: () => startOpenAIEmulator(), eventsWithText: 3 },
  { id: 'anthropic', start: () => startAnthropicEmulator(), eventsWithText: 5 },
  { id: 'gemini', start: () => startGeminiEmulator(), eventsWithText: 3 },
] as const;

let gw: TestGateway;
const emulators = new Map<string, Emulator>();
let secret: string;

beforeAll(async () => {
  const [started, ...emus] = await Promise.all([startGateway(), ...UPSTREAMS.map((u) => u.start())]);
  gw = started as TestGateway;
  for (const [i, u] of UPSTREAMS.entries()) emulators.set(u.id, emus[i] as Emulator);
  for (const u of UPSTREAMS) {
    await liveModel(gw, { id: `gs-${u.id}`, provider: u.id, upstreamModel: `gs-${u.id}-up`, keys: [{ baseUrl: emulators.get(u.id)!.url }], maxOutputTokens: 8192 });
  }
  secret = (await gw.project({ mode: 'live', balance: '100' })).secret;
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([...emulators.values()].map((e) => e.close()));
});
beforeEach(() => {
  for (const e of emulators.values()) e.reset();
});

const genai = () => new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw.url } });
const TEXT = 'One two three four five six seven.';

describe.each(UPSTREAMS)('streamGenerateContent over $id', (u) => {
  const model = `gs-${u.id}`;
  const emulator = () => emulators.get(u.id)!;

  it('streams text in several chunks, usageMetadata and finishReason on the last, and bills the stream exactly', async () => {
    emulator().setScript({ text: TEXT, chunks: 4, usage: { input: 200, output: 500 } });
    const stream = await genai().models.generateContentStream({ model, contents: 'Count please', config: { maxOutputTokens: 1000 } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    // What one upstream read holds leaves as one chunk: at least the text, then the last.
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe(TEXT);
    const last = chunks.at(-1)!;
    expect(last.candidates![0]!.finishReason).toBe('STOP');
    expect(last.usageMetadata).toMatchObject({ promptTokenCount: 200, candidatesTokenCount: 500, totalTokenCount: 700 });
    expect(chunks.slice(0, -1).every((c) => c.usageMetadata === undefined)).toBe(true);
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    const requestId = last.sdkHttpResponse!.headers!['x-request-id']!;
    const row = await usageRow(gw, requestId);
    // 200 input at 1/M + 500 output at 2/M (under the reservation's cap: 1000 output tokens at 2/M).
    expect(row).toMatchObject({ endpoint: 'generate_content', stream: true, status: 'ok', provider: u.id, promptTokens: 200, completionTokens: 500, cost: '0.001200000000' });
  });

  it('streams a function call whole, with its arguments as an object', async () => {
    emulator().setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 3 } }] });
    const stream = await genai().models.generateContentStream({
      model,
      contents: 'Weather?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING }, days: { type: Type.INTEGER } } } }] }] },
    });
    const calls = [];
    for await (const chunk of stream) calls.push(...(chunk.functionCalls ?? []));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris', days: 3 } });
  });

  it('streams thoughts as thought parts when includeThoughts is set', async () => {
    emulator().setScript({ text: 'Done.', reasoning: 'Thinking hard.' });
    const stream = await genai().models.generateContentStream({ model, contents: 'Think', config: { maxOutputTokens: 4000, thinkingConfig: { thinkingBudget: 1500, includeThoughts: true } } });
    let thoughts = '';
    let text = '';
    for await (const chunk of stream) {
      for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
        if (part.thought) thoughts += part.text ?? '';
        else text += part.text ?? '';
      }
    }
    expect(thoughts).toBe('Thinking hard.');
    expect(text).toBe('Done.');
  });

  it('ends a stream that fails after it began with an error chunk the SDK raises', async () => {
    emulator().setScript({ text: TEXT, chunks: 4 });
    emulator().enqueue({ errorEventAfterEvents: u.eventsWithText });
    const stream = await genai().models.generateContentStream({ model, contents: 'Count' });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.text ?? '';
    })().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBeGreaterThanOrEqual(500);
    expect((error as ApiError).message).toMatch(/UNAVAILABLE|INTERNAL/);
  });
});

describe('the stream on the wire', () => {
  const url = (query: string) => `${gw.url}/v1beta/models/gs-gemini:streamGenerateContent${query}`;
  const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });

  it('with alt=sse: data frames of GenerateContentResponse', async () => {
    emulators.get('gemini')!.setScript({ text: TEXT, chunks: 3 });
    const res = await fetch(url('?alt=sse'), { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': secret }, body });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = (await readSse(res)).map((e) => JSON.parse(e));
    expect(events.map((e) => e.candidates[0].content.parts.map((p: { text?: string }) => p.text ?? '').join('')).join('')).toBe(TEXT);
    expect(events.at(-1).usageMetadata.totalTokenCount).toBeGreaterThan(0);
  });

  it('without alt=sse: one JSON array of the same responses', async () => {
    emulators.get('gemini')!.setScript({ text: TEXT, chunks: 3 });
    const res = await fetch(url(''), { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': secret }, body });
    expect(res.status).toBe(200);
    const events = (await res.json()) as Array<{ candidates: Array<{ content: { parts: Array<{ text?: string }> }; finishReason?: string }> }>;
    expect(Array.isArray(events)).toBe(true);
    expect(events.map((e) => e.candidates[0]!.content.parts.map((p) => p.text ?? '').join('')).join('')).toBe(TEXT);
    expect(events.at(-1)!.candidates[0]!.finishReason).toBe('STOP');
  });
});
