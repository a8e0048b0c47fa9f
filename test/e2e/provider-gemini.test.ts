// The gateway in front of the Gemini (generativelanguage v1beta) emulator,
// driven with the official openai client: translation both ways (checked on
// the body the emulator received), SSE streams, embeddings, billing, error
// mapping and failover.
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ModelCapabilities, upstreamKeys } from '../../src/db/schema.js';
import { countTextTokens } from '../../src/core/tokens/count-tokens.js';
import { type Emulator, startGeminiEmulator } from '../emulators/index.js';
import { type LiveKey, liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { errorOf, expectBilled, startHeaderStrippingRelay, usageRow } from './provider-support.js';

let gw: TestGateway;
let a: Emulator;
let b: Emulator;
let n = 0;
beforeAll(async () => {
  [gw, a, b] = await Promise.all([startGateway(), startGeminiEmulator(), startGeminiEmulator()]);
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

/** A fresh public model over Gemini keys (A tried first, then B by default) and a live key for it. */
async function setup(options: { onlyA?: boolean; keys?: LiveKey[]; kind?: 'chat' | 'embedding'; capabilities?: ModelCapabilities; fallbacks?: string[] } = {}) {
  const model = `gemini-e2e-${++n}`;
  const upstreamModel = options.kind === 'embedding' ? `gemini-embedding-e2e-${n}` : `gemini-2.5-up-${n}`;
  const keys = options.keys ?? (options.onlyA ? [{ baseUrl: a.url }] : [{ baseUrl: a.url }, { baseUrl: b.url }]);
  const keyIds = await liveModel(gw, {
    id: model,
    provider: 'gemini',
    upstreamModel,
    keys,
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
    ...(options.fallbacks ? { fallbacks: options.fallbacks } : {}),
  });
  const project = await gw.project({ mode: 'live', balance: '10' });
  return { model, upstreamModel, keyIds, ...project, client: gw.client(project.secret) };
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
};
const timeTool = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
};
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello Gemini' }] });
type WithReasoning = { reasoning_content?: string | null };

describe('Gemini through the gateway: translation', () => {
  it('translates a full request (systemInstruction, model turns, functionCall/functionResponse, inlineData/fileData, config) and the answer back, billing exactly', async () => {
    a.setScript({ text: 'Checking.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }], usage: { input: 120, output: 30, cached: 20 } });
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
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            ],
          },
          { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_prev', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_prev', content: '{"temp":21}' },
          { role: 'user', content: 'And Lyon?' },
        ],
        tools: [weatherTool],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        stop: ['END'],
        temperature: 0.5,
        top_p: 0.9,
        max_tokens: 300,
      })
      .withResponse();

    const sent = a.requests[0]!;
    expect(sent.path).toBe(`/v1beta/models/${s.upstreamModel}:generateContent`);
    expect(sent.headers['x-goog-api-key']).toBe(`sk-test-${s.model}-0`);
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in English.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is in these, and the weather?' },
            { inlineData: { mimeType: 'image/png', data: PNG } },
            { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } },
          ],
        },
        { role: 'model', parts: [{ text: 'Let me check.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        // The tool result and the next user message merge into one user turn.
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }, { text: 'And Lyon?' }] },
      ],
      tools: [
        {
          functionDeclarations: [
            // additionalProperties is not part of Gemini's Schema: dropped.
            { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: { temperature: 0.5, topP: 0.9, maxOutputTokens: 300, stopSequences: ['END'] },
    });

    const choice = res.data.choices[0]!;
    // Gemini says STOP after a function call; the client is told tool_calls.
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Checking.');
    expect(choice.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
    ]);
    expect(res.data.model).toBe(s.model);
    expect(res.data.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 20 } });
    expect(res.response.headers.get('x-gateway-route')).toBe(`gemini/${s.upstreamModel}`);

    // 100 uncached × 1 + 20 cached × 0.5 + 30 × 2 = 170 per 1M.
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 120, completion: 30, cached: 20 });
    expect(row).toMatchObject({ provider: 'gemini', upstreamModel: s.upstreamModel, upstreamKeyId: s.keyIds[0], cost: '0.000170000000' });
  });

  it('answers parallel function calls with one user turn of functionResponse parts, names recovered from tool_call_id', async () => {
    const s = await setup({ onlyA: true });
    await s.client.chat.completions.create({
      model: s.model,
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        // Results in the other order: matched by id, not position.
        { role: 'tool', tool_call_id: 'call_t', content: '14:00' },
        { role: 'tool', tool_call_id: 'call_w', content: '{"sky":"clear"}' },
      ],
      tools: [weatherTool, timeTool],
    });
    expect(a.requests[0]!.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather and time in Paris?' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_time', response: { content: '14:00' } } },
          { functionResponse: { name: 'get_weather', response: { sky: 'clear' } } },
        ],
      },
    ]);
  });

  it('maps tool_choice none/auto/required, and the answer of a plain text turn', async () => {
    a.setScript({ text: 'Plain.' });
    const s = await setup({ onlyA: true });
    const replies: OpenAI.ChatCompletion[] = [];
    for (const tool_choice of ['none', 'auto', 'required'] as const) {
      replies.push(await s.client.chat.completions.create({ ...hello(s.model), tools: [weatherTool, timeTool], tool_choice }));
    }
    expect(a.requests.map((r) => r.body.toolConfig)).toEqual([
      { functionCallingConfig: { mode: 'NONE' } },
      { functionCallingConfig: { mode: 'AUTO' } },
      { functionCallingConfig: { mode: 'ANY' } },
    ]);
    expect(a.requests[0]!.body.tools[0].functionDeclarations[1]).toEqual({ name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } });
    expect(replies[0]!.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant', content: 'Plain.' } });
  });

  it('think → thinkingConfig, thought parts → reasoning_content, thoughtsTokenCount → reasoning_tokens, billed as output', async () => {
    a.setScript({ text: 'Forty-two.', reasoning: 'Six times seven.', usage: { input: 10, output: 30, reasoning: 12 } });
    const s = await setup({ onlyA: true });
    const res = await s.client.chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
    // No max_tokens: held to the catalogue's ceiling (what was reserved), thoughts included.
    expect(a.requests[0]!.body.generationConfig).toEqual({ maxOutputTokens: 1000, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } });
    const message = res.data.choices[0]!.message as OpenAI.ChatCompletionMessage & WithReasoning;
    expect(message.content).toBe('Forty-two.');
    expect(message.reasoning_content).toBe('Six times seven.');
    expect(res.data.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 30, completion_tokens_details: { reasoning_tokens: 12 } });
    await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 10, completion: 30, reasoning: 12 });

    await s.client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'low' });
    expect(a.requests[1]!.body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 1024, includeThoughts: true });
  });

  it('deepsearch and web_search_options → googleSearch grounding', async () => {
    const s = await setup({ onlyA: true });
    await s.client.chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    await s.client.chat.completions.create({ ...hello(s.model), tools: [weatherTool], web_search_options: {} });
    expect(a.requests[0]!.body.tools).toEqual([{ googleSearch: {} }]);
    expect(a.requests[1]!.body.tools).toEqual([{ functionDeclarations: [expect.objectContaining({ name: 'get_weather' })] }, { googleSearch: {} }]);
  });

  it('response_format json_schema → responseMimeType and a cleaned responseSchema; n → candidateCount', async () => {
    a.setScript({ text: '{"answer":42}' });
    const s = await setup({ onlyA: true });
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    const res = await s.client.chat.completions.create({
      ...hello(s.model),
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      n: 2,
      seed: 3,
    });
    expect(a.requests[0]!.body.generationConfig).toEqual({
      candidateCount: 2,
      maxOutputTokens: 1000,
      seed: 3,
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] },
    });
    expect(res.choices[0]!.message.content).toBe('{"answer":42}');
  });

  it('refuses an option Gemini cannot honour with a 400 naming it, without calling upstream', async () => {
    const s = await setup();
    const err = await errorOf(s.client.chat.completions.create({ ...hello(s.model), logprobs: true }));
    expect(err.status).toBe(400);
    expect(err.message).toContain('logprobs');
    const bias = await errorOf(s.client.chat.completions.create({ ...hello(s.model), logit_bias: { '50256': -100 } }));
    expect(bias.status).toBe(400);
    expect(bias.message).toContain('logit_bias');
    expect(a.requests).toHaveLength(0);
    expect(b.requests).toHaveLength(0);
  });

  it('refuses think/deepsearch with a 400 naming the option when the model is declared without reasoning/web search', async () => {
    const s = await setup({ onlyA: true, capabilities: { tools: true, vision: true } });
    const think = await errorOf(s.client.chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(think.status).toBe(400);
    expect(think.message).toContain('think');
    const effort = await errorOf(s.client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'high' }));
    expect(effort.message).toContain('reasoning_effort');
    const search = await errorOf(s.client.chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(search.status).toBe(400);
    expect(search.message).toContain('deepsearch');
    expect(a.requests).toHaveLength(0);
    // Turning reasoning off asks for nothing the model lacks.
    await s.client.chat.completions.create({ ...hello(s.model), reasoning_effort: 'none' });
    expect(a.requests[0]!.body.generationConfig).toEqual({ maxOutputTokens: 1000, thinkingConfig: { thinkingBudget: 0 } });
  });

  it('never falls back to a model that cannot honour the options the request asked for', async () => {
    b.setScript({ text: 'fallback without thinking' });
    const fallback = await setup({ keys: [{ baseUrl: b.url }], capabilities: { tools: true } });
    a.setDefault({ status: 500 });
    const s = await setup({ onlyA: true, capabilities: { tools: true, reasoning: true }, fallbacks: [fallback.model] });
    const err = await errorOf(s.client.chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming));
    expect(err.status).toBe(503);
    expect(b.requests).toHaveLength(0);
    const plain = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(plain.data.choices[0]!.message.content).toBe('fallback without thinking');
    expect(plain.response.headers.get('x-gateway-model')).toBe(fallback.model);
  });

  it('MAX_TOKENS → finish_reason length, in answers and streams', async () => {
    a.setScript({ text: 'cut short', finishReason: 'length' });
    const s = await setup({ onlyA: true });
    const res = await s.client.chat.completions.create({ ...hello(s.model), max_tokens: 3 });
    expect(res.choices[0]!.finish_reason).toBe('length');
    const final = await s.client.chat.completions.stream({ ...hello(s.model), max_tokens: 3 }).finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('length');
    expect(final.choices[0]!.message.content).toBe('cut short');
  });
});

describe('Gemini through the gateway: streams', () => {
  it('streams text and reasoning_content over alt=sse and bills the final usageMetadata', async () => {
    a.setScript({ text: 'alpha beta gamma delta', reasoning: 'thinking it over', chunks: 4, usage: { input: 50, output: 40, reasoning: 10 } });
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
    const sent = a.requests[0]!;
    expect(sent.path).toBe(`/v1beta/models/${s.upstreamModel}:streamGenerateContent`);
    expect(sent.query).toMatchObject({ alt: 'sse' });
    expect(content).toBe('alpha beta gamma delta');
    expect(reasoning).toBe('thinking it over');
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 40, completion_tokens_details: { reasoning_tokens: 10 } });
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: 50, completion: 40, reasoning: 10 });
    expect(row.stream).toBe(true);
  });

  it('streams whole function calls as tool-call deltas the client reassembles, finish_reason tool_calls', async () => {
    a.setScript({
      toolCalls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_time', arguments: { zone: 'Europe/Paris' } },
      ],
    });
    const s = await setup({ onlyA: true });
    const final = await s.client.chat.completions.stream({ ...hello(s.model), tools: [weatherTool, timeTool] }).finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.tool_calls).toHaveLength(2);
    expect(message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(message.tool_calls![1]).toMatchObject({ type: 'function', function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' } });
    expect(message.tool_calls![0]!.id).toMatch(/^call_/);
    expect(message.tool_calls![0]!.id).not.toBe(message.tool_calls![1]!.id);
  });

  it('a mid-stream error reaches the client as an error, with no retry, and the usage so far is billed', async () => {
    a.setScript({ text: 'one two three four five six', chunks: 6 });
    a.enqueue({ errorEventAfterEvents: 3 });
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
    expect(text.length).toBeGreaterThan(0);
    expect(b.requests).toHaveLength(0);
    const row = await usageRow(gw, res.response.headers.get('x-request-id')!);
    expect(row.status).toBe('error');
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(Number(row.cost)).toBeGreaterThan(0);
  });

  it('a stream cut before its first event fails over; 503 before the stream fails over too', async () => {
    a.enqueue({ cutAfterEvents: 0 }, { status: 503 });
    b.setScript({ text: 'from B' });
    const s = await setup();
    for (let i = 0; i < 2; i++) {
      const final = await s.client.chat.completions.stream(hello(s.model)).finalChatCompletion();
      expect(final.choices[0]!.message.content).toBe('from B');
    }
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(2);
  });

  it('passes a client abort mid-stream to the upstream and bills what was produced', async () => {
    a.setScript({ text: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10', chunks: 10 });
    a.setDefault({ eventDelayMs: 100 });
    const s = await setup({ onlyA: true });
    const abortsBefore = a.aborted();
    const controller = new AbortController();
    const res = await s.client.chat.completions.create({ ...hello(s.model), stream: true }, { signal: controller.signal }).withResponse();
    let seen = 0;
    await (async () => {
      for await (const chunk of res.data) {
        if (chunk.choices[0]?.delta.content) seen++;
        if (seen === 2) controller.abort();
      }
    })().catch(() => undefined);
    await a.waitForAborts(abortsBefore + 1);
    const requestId = res.response.headers.get('x-request-id')!;
    await expect.poll(async () => (await usageRow(gw, requestId)).status).toBe('aborted');
    const row = await usageRow(gw, requestId);
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(row.completionTokens).toBeLessThan(10);
    expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'gemini')).toMatchObject({ state: 'healthy', inFlight: 0, lastError: null });
  });

  it('the request timeout bounds the whole call, failover included: 408, and the hung upstreams are aborted', async () => {
    // A answers 500 after 200 ms; B accepts the stream, then stalls before its first event.
    a.setDefault({ status: 500, latencyMs: 200 });
    b.setDefault({ firstByteDelayMs: 5_000 });
    const s = await setup();
    const abortsBefore = b.aborted();
    const started = Date.now();
    const err = await errorOf(s.client.chat.completions.create({ ...hello(s.model), stream: true, timeout: 0.5 } as OpenAI.ChatCompletionCreateParamsStreaming));
    expect(err.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(3_000);
    await b.waitForAborts(abortsBefore + 1);
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(1);
  });
});

describe('Gemini through the gateway: embeddings', () => {
  it('embeds through batchEmbedContents with dimensions → outputDimensionality, billing the counted input', async () => {
    const s = await setup({ kind: 'embedding', onlyA: true });
    const input = ['the quick brown fox', 'jumps over the lazy dog'];
    // The openai client asks for base64 by default and decodes it.
    const res = await s.client.embeddings.create({ model: s.model, input, dimensions: 16 }).withResponse();
    const sent = a.requests[0]!;
    expect(sent.path).toBe(`/v1beta/models/${s.upstreamModel}:batchEmbedContents`);
    expect(sent.body).toEqual({
      requests: input.map((text) => ({ model: `models/${s.upstreamModel}`, content: { parts: [{ text }] }, outputDimensionality: 16 })),
    });
    expect(res.data.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of res.data.data) expect(d.embedding).toHaveLength(16);
    expect(res.data.data[0]!.embedding).not.toEqual(res.data.data[1]!.embedding);
    expect(res.data.model).toBe(s.model);
    const tokens = input.reduce((sum, text) => sum + countTextTokens(text), 0);
    expect(res.data.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    const row = await expectBilled(gw, res.response.headers.get('x-request-id')!, { prompt: tokens, completion: 0 });
    expect(row).toMatchObject({ endpoint: 'embeddings', provider: 'gemini' });

    const floats = await s.client.embeddings.create({ model: s.model, input: 'the quick brown fox', dimensions: 16, encoding_format: 'float' });
    expect(floats.data[0]!.embedding).toEqual(res.data.data[0]!.embedding);
  });

  it('fails over between keys for embeddings too', async () => {
    a.enqueue({ status: 500 });
    const s = await setup({ kind: 'embedding' });
    const res = await s.client.embeddings.create({ model: s.model, input: 'hello', dimensions: 8 }).withResponse();
    expect(res.data.data[0]!.embedding).toHaveLength(8);
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
  });
});

describe('Gemini through the gateway: errors and failover', () => {
  it('disables a key Gemini refuses with 400 INVALID_ARGUMENT / API_KEY_INVALID and answers from the next', async () => {
    const strict = await startGeminiEmulator({ validKeys: ['gm-good-key'] });
    try {
      strict.setScript({ text: 'valid key answered' });
      const s = await setup({ keys: [{ baseUrl: strict.url, secret: 'gm-revoked-key' }, { baseUrl: strict.url, secret: 'gm-good-key' }] });
      const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
      expect(res.data.choices[0]!.message.content).toBe('valid key answered');
      expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
      expect(strict.requests.map((r) => r.headers['x-goog-api-key'])).toEqual(['gm-revoked-key', 'gm-good-key']);
      await expect
        .poll(async () => (await gw.database.db.select().from(upstreamKeys).where(eq(upstreamKeys.id, s.keyIds[0]!)))[0]!)
        .toMatchObject({ status: 'disabled', disabledReason: expect.stringContaining('API key not valid') });
      expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'gemini').state).toBe('disabled');
      await gw.gateway.pool.reload();
      await s.client.chat.completions.create(hello(s.model));
      expect(strict.requests).toHaveLength(3);
      expect(strict.requests[2]!.headers['x-goog-api-key']).toBe('gm-good-key');
    } finally {
      await strict.close();
    }
  });

  it('a plain 400 INVALID_ARGUMENT is the client’s: passed on as a 400, no failover, key untouched', async () => {
    a.enqueue({ status: 400, message: '* GenerateContentRequest.generation_config.temperature: must be <= 2' });
    const s = await setup();
    const err = await errorOf(s.client.chat.completions.create(hello(s.model)));
    expect(err.status).toBe(400);
    expect(err.message).toContain('temperature');
    expect(b.requests).toHaveLength(0);
    expect(gw.gateway.health.snapshot(s.keyIds[0]!, 'gemini').state).toBe('healthy');
  });

  it('cools a key down on 429 RESOURCE_EXHAUSTED, honouring RetryInfo.retryDelay from the body', async () => {
    // The relay drops retry-after, so only the body's RetryInfo tells the delay.
    const relay = await startHeaderStrippingRelay(a.url, ['retry-after']);
    try {
      a.enqueue({ status: 429, retryAfter: 45 });
      b.setScript({ text: 'B took it' });
      const s = await setup({ keys: [{ baseUrl: relay.url }, { baseUrl: b.url }] });
      const first = await s.client.chat.completions.create(hello(s.model));
      expect(first.choices[0]!.message.content).toBe('B took it');
      await s.client.chat.completions.create(hello(s.model));
      expect(a.requests).toHaveLength(1);
      expect(b.requests).toHaveLength(2);
      const health = gw.gateway.health.snapshot(s.keyIds[0]!, 'gemini');
      expect(health.state).toBe('cooling_down');
      const left = Date.parse(health.cooldownUntil!) - Date.now();
      // 45 s from RetryInfo, not the 30 s default.
      expect(left).toBeGreaterThan(40_000);
      expect(left).toBeLessThanOrEqual(45_000);
    } finally {
      await relay.close();
    }
  });

  it('fails over on 500 INTERNAL and 504 DEADLINE_EXCEEDED; all keys failing is a 503 with no key material', async () => {
    a.enqueue({ status: 504 });
    const s = await setup();
    const res = await s.client.chat.completions.create(hello(s.model)).withResponse();
    expect(res.response.headers.get('x-gateway-attempts')).toBe('2');
    a.setDefault({ status: 500 });
    b.setDefault({ status: 503 });
    const err = await errorOf(s.client.chat.completions.create(hello(s.model)));
    expect(err.status).toBe(503);
    expect(JSON.stringify(err.error)).not.toContain('sk-test');
  });
});
