// The Gemini door (`/v1beta/models/{model}:{action}`) through Google's own
// GenAI SDK, against each kind of upstream (OpenAI wire, Anthropic, Gemini):
// generateContent, countTokens, embedContent, function calling, thinking and
// JSON schemas reaching the upstream's own fields, errors as the SDK raises
// them, and the usage rows the door writes.
import { Writable } from 'node:stream';
import { ApiError, GoogleGenAI, HarmBlockThreshold, HarmCategory, Type } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type RecordedRequest, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { createLogger } from '../../src/create-logger.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { usageRow } from './provider-support.js';

interface Upstream {
  id: 'openai' | 'anthropic' | 'gemini';
  start: () => Promise<Emulator>;
  embeddings: boolean;
  /** Where the upstream's request carries the JSON schema the client asked for. */
  sentSchema(body: any): unknown;
  /** Where it carries the thinking the client asked for. */
  sentThinking(body: any): unknown;
  /** The tool declarations it received. */
  sentToolNames(body: any): string[];
}

const UPSTREAMS: Upstream[] = [
  {
    id: 'openai',
    start: () => startOpenAIEmulator(),
    embeddings: true,
    sentSchema: (b) => b.response_format?.json_schema?.schema,
    sentThinking: (b) => b.reasoning_effort,
    sentToolNames: (b) => (b.tools ?? []).map((t: any) => t.function.name),
  },
  {
    id: 'anthropic',
    start: () => startAnthropicEmulator(),
    embeddings: false,
    // JSON mode on Anthropic is a forced tool whose input schema is the answer's.
    sentSchema: (b) => b.tools?.find((t: any) => t.name === 'json_tool_call')?.input_schema,
    sentThinking: (b) => b.thinking,
    sentToolNames: (b) => (b.tools ?? []).map((t: any) => t.name),
  },
  {
    id: 'gemini',
    start: () => startGeminiEmulator(),
    embeddings: true,
    sentSchema: (b) => b.generationConfig?.responseSchema,
    sentThinking: (b) => b.generationConfig?.thinkingConfig,
    sentToolNames: (b) => b.tools?.[0]?.functionDeclarations?.map((d: any) => d.name) ?? [],
  },
];

let gw: TestGateway;
/** Everything the gateway logged (at debug), searched for keys at the end. */
let logged = '';
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logged += chunk.toString();
    done();
  },
});
const emulators = new Map<Upstream['id'], Emulator>();
let secret: string;
const genai = (apiKey: string, apiVersion?: string) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gw.url, ...(apiVersion ? { apiVersion } : {}) } });

beforeAll(async () => {
  const [started, ...emus] = await Promise.all([startGateway({ logger: createLogger('debug', logSink) }), ...UPSTREAMS.map((u) => u.start())]);
  gw = started as TestGateway;
  for (const [i, u] of UPSTREAMS.entries()) emulators.set(u.id, emus[i] as Emulator);
  for (const u of UPSTREAMS) {
    const emulator = emulators.get(u.id)!;
    // Anthropic thinks only with max_tokens above its smallest budget (1024).
    await liveModel(gw, { id: `gd-${u.id}`, provider: u.id, upstreamModel: `gd-${u.id}-up`, keys: [{ baseUrl: emulator.url }], maxOutputTokens: 8192 });
    if (u.embeddings) await liveModel(gw, { id: `gd-${u.id}-embed`, provider: u.id, upstreamModel: `gd-${u.id}-embed-up`, kind: 'embedding', keys: [{ baseUrl: emulator.url }] });
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

const requestIdOf = (res: { sdkHttpResponse?: { headers?: Record<string, string> } }) => res.sdkHttpResponse!.headers!['x-request-id']!;
const lastSent = (emulator: Emulator): RecordedRequest => emulator.requests.at(-1)!;

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] },
};

describe.each(UPSTREAMS)('the Gemini door over $id', (u) => {
  const model = `gd-${u.id}`;
  const emulator = () => emulators.get(u.id)!;

  it('answers generateContent with the upstream text, usageMetadata, and a usage row priced exactly', async () => {
    emulator().setScript({ text: `Bonjour from ${u.id}.`, usage: { input: 1200, output: 300 } });
    const res = await genai(secret).models.generateContent({
      model,
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      config: {
        systemInstruction: 'Be brief.',
        temperature: 0.5,
        maxOutputTokens: 2000,
        safetySettings: [{ category: HarmCategory.HARM_CATEGORY_HARASSMENT, threshold: HarmBlockThreshold.BLOCK_ONLY_HIGH }],
      },
    });
    expect(res.text).toBe(`Bonjour from ${u.id}.`);
    expect(res.candidates![0]!.finishReason).toBe('STOP');
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 1200, candidatesTokenCount: 300, totalTokenCount: 1500 });
    expect(res.modelVersion).toBe(model);
    const row = await usageRow(gw, requestIdOf(res));
    // 1200 input at 1/M + 300 output at 2/M.
    expect(row).toMatchObject({ endpoint: 'generate_content', status: 'ok', modelId: model, provider: u.id, promptTokens: 1200, completionTokens: 300, cost: '0.001800000000' });
    const sent = lastSent(emulator()).body;
    expect(JSON.stringify(sent)).toContain('Be brief.');
    expect(JSON.stringify(sent)).toContain('Say hello');
    // Safety settings reach Gemini; no other upstream has such a control (nor gets the field).
    if (u.id === 'gemini') expect(sent.safetySettings).toEqual([{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }]);
    else expect(JSON.stringify(sent)).not.toMatch(/safety/i);
  });

  it('reports cached input as cachedContentTokenCount and prices it at the cached rate', async () => {
    emulator().setScript({ text: 'Cached.', usage: { input: 1000, output: 100, cached: 400 } });
    const res = await genai(secret).models.generateContent({ model, contents: 'A long shared prefix', config: { maxOutputTokens: 500 } });
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 1000, cachedContentTokenCount: 400, candidatesTokenCount: 100, totalTokenCount: 1100 });
    const row = await usageRow(gw, requestIdOf(res));
    // 600 uncached input at 1/M + 400 cached at 0.5/M + 100 output at 2/M.
    expect(row).toMatchObject({ endpoint: 'generate_content', promptTokens: 1000, cachedTokens: 400, completionTokens: 100, cost: '0.001000000000' });
  });

  it('calls a function and takes its response back (functionCall → functionResponse)', async () => {
    emulator().setScript({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const ai = genai(secret);
    const config = { tools: [{ functionDeclarations: [weather] }] };
    const first = await ai.models.generateContent({ model, contents: 'Weather in Paris?', config });
    const call = first.functionCalls![0]!;
    expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
    expect(first.candidates![0]!.finishReason).toBe('STOP');
    expect(u.sentToolNames(lastSent(emulator()).body)).toEqual(['get_weather']);

    emulator().setScript({ text: 'It is 21 degrees.' });
    const second = await ai.models.generateContent({
      model,
      config,
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: call }] },
        { role: 'user', parts: [{ functionResponse: { ...(call.id ? { id: call.id } : {}), name: 'get_weather', response: { temp: 21 } } }] },
      ],
    });
    expect(second.text).toBe('It is 21 degrees.');
    const sent = JSON.stringify(lastSent(emulator()).body);
    expect(sent).toContain('get_weather');
    expect(sent).toContain('21');
  });

  it('maps thinkingConfig to the upstream reasoning control and returns thoughts when asked', async () => {
    emulator().setScript({ text: 'Answer.', reasoning: 'Let me think.', usage: { input: 100, output: 60, reasoning: 20 } });
    const res = await genai(secret).models.generateContent({
      model,
      contents: 'Think about it',
      config: { maxOutputTokens: 4000, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } },
    });
    const expected = { openai: 'medium', anthropic: { type: 'enabled', budget_tokens: 2048 }, gemini: { thinkingBudget: 2048, includeThoughts: true } }[u.id];
    expect(u.sentThinking(lastSent(emulator()).body)).toEqual(expected);
    expect(res.text).toBe('Answer.');
    const parts = res.candidates![0]!.content!.parts!;
    expect(parts.filter((p) => p.thought).map((p) => p.text)).toEqual(['Let me think.']);
    // Anthropic counts thinking inside output_tokens and reports no split.
    if (u.id !== 'anthropic') expect(res.usageMetadata).toMatchObject({ thoughtsTokenCount: 20, candidatesTokenCount: 40, totalTokenCount: 160 });

    await genai(secret).models.generateContent({ model, contents: 'No thinking', config: { thinkingConfig: { thinkingBudget: 0 } } });
    const off = u.sentThinking(lastSent(emulator()).body);
    expect(off).toEqual({ openai: 'none', anthropic: undefined, gemini: { thinkingBudget: 0 } }[u.id]);
  });

  it('sends a JSON response schema as the upstream structured-output field', async () => {
    emulator().setScript(u.id === 'anthropic' ? { toolCalls: [{ name: 'json_tool_call', arguments: { city: 'Paris' } }] } : { text: '{"city":"Paris"}' });
    const res = await genai(secret).models.generateContent({
      model,
      contents: 'Which city?',
      config: { responseMimeType: 'application/json', responseSchema: { type: Type.OBJECT, properties: { city: { type: Type.STRING, nullable: true } }, required: ['city'] } },
    });
    expect(JSON.parse(res.text!)).toEqual({ city: 'Paris' });
    const schema = u.sentSchema(lastSent(emulator()).body) as Record<string, any>;
    expect(schema).toBeDefined();
    expect(JSON.stringify(schema)).toContain('city');
  });

  it('counts tokens, exactly where the upstream counts (Gemini, Anthropic), without billing', async () => {
    emulator().setScript({ usage: { input: 42, output: 1 } });
    const res = await genai(secret).models.countTokens({ model, contents: 'How many tokens is this sentence?' });
    const counted = res.sdkHttpResponse!.headers!['x-gateway-token-count'];
    if (u.id === 'openai') {
      expect(counted).toBe('estimate');
      expect(res.totalTokens).toBeGreaterThan(5);
      expect(emulator().requests).toHaveLength(0);
    } else {
      expect(counted).toBe('exact');
      expect(emulator().requests).toHaveLength(1);
      expect(JSON.stringify(emulator().requests[0]!.body)).toContain('How many tokens is this sentence?');
      if (u.id === 'gemini') {
        expect(emulator().requests[0]!.path).toBe(`/v1beta/models/${model}-up:countTokens`);
        expect(res.totalTokens).toBe(42);
      }
    }
  });

  it.runIf(u.embeddings)('embeds one content and a batch, with outputDimensionality', async () => {
    const ai = genai(secret);
    const one = await ai.models.embedContent({ model: `${model}-embed`, contents: 'first', config: { outputDimensionality: 8, taskType: 'RETRIEVAL_QUERY' } });
    expect(one.embeddings).toHaveLength(1);
    expect(one.embeddings![0]!.values).toHaveLength(8);
    const many = await ai.models.embedContent({ model: `${model}-embed`, contents: ['first', 'second', 'third'], config: { outputDimensionality: 8 } });
    expect(many.embeddings!.map((e) => e.values!.length)).toEqual([8, 8, 8]);
    // The same text, the same vector, alone or in a batch.
    expect(many.embeddings![0]!.values).toEqual(one.embeddings![0]!.values);
    const row = await usageRow(gw, requestIdOf(many));
    // OpenAI's emulator reports ceil(chars / 4) per text (2 + 2 + 2); Gemini reports none and the gateway counts one token each. 1/M per token.
    const tokens = u.id === 'openai' ? 6 : 3;
    expect(row).toMatchObject({ endpoint: 'embed_content', status: 'ok', modelId: `${model}-embed`, provider: u.id, promptTokens: tokens, cost: `0.00000${tokens}000000` });
  });
});

describe('the Gemini door', () => {
  it('takes the key as x-goog-api-key, ?key= and Bearer, under /v1beta and /v1', async () => {
    emulators.get('gemini')!.setScript({ text: 'ok' });
    const v1 = await genai(secret, 'v1').models.generateContent({ model: 'gd-gemini', contents: 'hi' });
    expect(v1.text).toBe('ok');
    const url = (auth: string) => `${gw.url}/v1beta/models/gd-gemini:generateContent${auth}`;
    const body = JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] });
    const byQuery = await fetch(url(`?key=${secret}`), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(byQuery.status).toBe(200);
    const byBearer = await fetch(url(''), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` }, body });
    expect(byBearer.status).toBe(200);
    // `models/x` in the path names the same model.
    const prefixed = await fetch(`${gw.url}/v1beta/models/models/gd-gemini:generateContent?key=${secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(prefixed.status).toBe(200);
  });

  it('answers :embedContent (which the SDK does not call) as one embedding, and refuses a batch naming another model', async () => {
    const post = (action: string, body: unknown) =>
      fetch(`${gw.url}/v1beta/models/gd-gemini-embed:${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': secret }, body: JSON.stringify(body) });
    const one = await post('embedContent', { content: { parts: [{ text: 'first' }] }, outputDimensionality: 8, taskType: 'SEMANTIC_SIMILARITY' });
    expect(one.status).toBe(200);
    const body = (await one.json()) as { embedding: { values: number[] } };
    expect(body.embedding.values).toHaveLength(8);
    const row = await usageRow(gw, one.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'embed_content', promptTokens: 1, cost: '0.000001000000' });
    const mixed = await post('batchEmbedContents', { requests: [{ model: 'models/gd-gemini-embed', content: { parts: [{ text: 'a' }] } }, { model: 'models/other', content: { parts: [{ text: 'b' }] } }] });
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('requests.1.model') } });
    // A chat model cannot embed.
    const chatModel = await fetch(`${gw.url}/v1beta/models/gd-gemini:embedContent`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': secret }, body: JSON.stringify({ content: { parts: [{ text: 'x' }] } }) });
    expect(chatModel.status).toBe(400);
    expect(await chatModel.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('chat model') } });
  });

  it('answers pk_test_ keys with the mock in Gemini shape, and X-Mock-Scenario errors in Google shape', async () => {
    const test = await gw.project({ mode: 'test' });
    const res = await genai(test.secret).models.generateContent({ model: 'gpt-4o-mini', contents: 'Hello mock' });
    expect(res.text).toContain('Hello mock');
    const row = await usageRow(gw, requestIdOf(res));
    expect(row).toMatchObject({ endpoint: 'generate_content', test: true, provider: 'mock', cost: '0.000000000000' });
    const failing = new GoogleGenAI({ apiKey: test.secret, httpOptions: { baseUrl: gw.url, headers: { 'x-mock-scenario': 'error-429' } } });
    const error = await failing.models.generateContent({ model: 'gpt-4o-mini', contents: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect(JSON.parse((error as ApiError).message)).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
  });

  const errorOf = async (p: Promise<unknown>) => {
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    return { status: (e as ApiError).status, body: JSON.parse((e as ApiError).message) as { error: { code: number; message: string; status: string } } };
  };

  it('raises every refusal as the SDK ApiError with Google status names', async () => {
    const bad = await errorOf(genai('pk_live_nosuchkey0000000000000000').models.generateContent({ model: 'gd-gemini', contents: 'x' }));
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });

    const narrow = await gw.project({ mode: 'live', models: ['gd-openai'] });
    const denied = await errorOf(genai(narrow.secret).models.generateContent({ model: 'gd-gemini', contents: 'x' }));
    expect(denied).toMatchObject({ status: 403, body: { error: { status: 'PERMISSION_DENIED' } } });

    const unknown = await errorOf(genai(secret).models.generateContent({ model: 'no-such-model', contents: 'x' }));
    expect(unknown).toMatchObject({ status: 404, body: { error: { status: 'NOT_FOUND' } } });
    expect(unknown.body.error.message).toContain('no-such-model');

    const limited = await gw.project({ mode: 'live', rpmLimit: 1 });
    emulators.get('gemini')!.setScript({ text: 'ok' });
    await genai(limited.secret).models.generateContent({ model: 'gd-gemini', contents: 'x' });
    const rate = await errorOf(genai(limited.secret).models.generateContent({ model: 'gd-gemini', contents: 'x' }));
    expect(rate).toMatchObject({ status: 429, body: { error: { status: 'RESOURCE_EXHAUSTED' } } });

    const poor = await gw.project({ mode: 'live', balance: '0' });
    const broke = await errorOf(genai(poor.secret).models.generateContent({ model: 'gd-gemini', contents: 'x' }));
    expect(broke).toMatchObject({ status: 402, body: { error: { code: 402, status: 'FAILED_PRECONDITION' } } });

    const badTemp = await errorOf(genai(secret).models.generateContent({ model: 'gd-gemini', contents: 'x', config: { temperature: 7 } }));
    expect(badTemp).toMatchObject({ status: 400, body: { error: { status: 'INVALID_ARGUMENT' } } });
    expect(badTemp.body.error.message).toContain('generationConfig.temperature');

    const two = await errorOf(genai(secret).models.generateContent({ model: 'gd-gemini', contents: 'x', config: { candidateCount: 2 } }));
    expect(two.body.error.message).toContain('generationConfig.candidateCount');
    const code = await errorOf(genai(secret).models.generateContent({ model: 'gd-gemini', contents: 'x', config: { tools: [{ codeExecution: {} }] } }));
    expect(code.body.error.message).toContain('tools.0.codeExecution');
    const cached = await errorOf(genai(secret).models.generateContent({ model: 'gd-gemini', contents: 'x', config: { cachedContent: 'cachedContents/abc' } }));
    expect(cached.body.error.message).toContain('cachedContent');
    // None of these reached an upstream.
    expect(emulators.get('gemini')!.requests).toHaveLength(1);
  });

  it('answers unknown paths, unknown methods and malformed JSON in Google shape', async () => {
    const post = (path: string, body: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': secret }, body });
    const unknownPath = await post('/v1beta/nothing', '{}');
    expect(unknownPath.status).toBe(404);
    expect(await unknownPath.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const unknownMethod = await post('/v1beta/models/gd-gemini:predict', '{}');
    expect(await unknownMethod.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const malformed = await post('/v1beta/models/gd-gemini:generateContent', '{"contents": [');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const noContents = await post('/v1beta/models/gd-gemini:generateContent', '{}');
    expect(await noContents.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining('contents') } });
  });

  it('never logs a key sent as ?key=, x-goog-api-key or a bad key, even on failures', async () => {
    const unknownKey = `pk_live_${'q'.repeat(32)}`;
    const post = (query: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${gw.url}/v1beta/models/gd-gemini:generateContent${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const hello = { contents: [{ parts: [{ text: 'hi' }] }] };
    expect((await post(`?key=${secret}`, {}, hello)).status).toBe(200);
    expect((await post(`?key=${unknownKey}`, {}, hello)).status).toBe(401);
    expect((await post('', { 'x-goog-api-key': unknownKey }, hello)).status).toBe(401);
    expect((await post(`?key=${secret}`, {}, { contents: 'nope' })).status).toBe(400);
    emulators.get('gemini')!.enqueue({ status: 500 });
    expect((await post(`?key=${secret}`, {}, hello)).status).toBeGreaterThanOrEqual(500);
    const stream = await fetch(`${gw.url}/v1beta/models/gd-gemini:streamGenerateContent?alt=sse&key=${secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hello) });
    await stream.text();
    await gw.gateway.metering.idle();
    // The logs did record what happened (so the search means something)...
    expect(logged.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(0);
    // ...and no key, whole or as its random part.
    for (const key of [secret, unknownKey]) expect(logged).not.toContain(key.slice(-24));
  });
});
