// What only Gemini does, run by the conformance suite on its gateway
// (provider-conformance.test.ts; `-t gemini` runs Gemini alone): how a
// request is spelled in generativelanguage v1beta, checked on the body the
// emulator received, and the delay of a 429 read from the body's RetryInfo.
// What the client sees and what is billed is the suite's.
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { drain, instructionsAndImages, PNG, type ProviderEnv, startHeaderStrippingRelay, timeTool, weatherAndTimeCalls, weatherTool as suiteWeatherTool } from './provider-support.js';

// additionalProperties is not part of Gemini's Schema: the adapter must drop it.
const weatherTool = {
  ...suiteWeatherTool,
  function: { ...suiteWeatherTool.function, parameters: { ...suiteWeatherTool.function.parameters, additionalProperties: false } },
};
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello Gemini' }] });

export function geminiQuirks({ gw, client, emulators, route, shared }: ProviderEnv): void {
  describe('the generateContent body', () => {
    it('translates a full request: systemInstruction, model turns, functionCall/functionResponse, inlineData/fileData, config', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({
        model: s.model,
        messages: [
          ...instructionsAndImages('https://example.com/cat.png'),
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
      });

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
    });

    it('answers parallel function calls with one user turn of functionResponse parts, names recovered from tool_call_id', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({
        model: s.model,
        messages: [
          ...weatherAndTimeCalls({ weather: 'call_w', time: 'call_t' }, '{}'),
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

    it('replays function calls to Gemini 3 with the placeholder thought signature, on the first call of a parallel set only', async () => {
      const [a] = emulators();
      const history = (model: string) => ({
        model,
        messages: [
          ...weatherAndTimeCalls({ weather: 'call_w', time: 'call_t' }, '{}'),
          { role: 'tool' as const, tool_call_id: 'call_w', content: 'Sunny' },
          { role: 'tool' as const, tool_call_id: 'call_t', content: '14:00' },
        ],
        tools: [weatherTool, timeTool],
      });
      const gemini3 = await route({ onlyA: true, upstreamModel: 'gemini-3-pro-preview' });
      const gemini25 = await route({ onlyA: true, upstreamModel: 'gemini-2.5-flash' });
      await client().chat.completions.create(history(gemini3.model));
      await client().chat.completions.create(history(gemini25.model));
      // Gemini 3 refuses a replayed functionCall without a signature; the history has none to give.
      expect(a.requests[0]!.body.contents[1].parts).toEqual([
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'skip_thought_signature_validator' },
        { functionCall: { name: 'get_time', args: {} } },
      ]);
      expect(a.requests[1]!.body.contents[1].parts).toEqual([
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
        { functionCall: { name: 'get_time', args: {} } },
      ]);
    });

    it('maps tool_choice none/auto/required to functionCallingConfig modes', async () => {
      const [a] = emulators();
      const s = await shared();
      for (const tool_choice of ['none', 'auto', 'required'] as const) {
        await client().chat.completions.create({ ...hello(s.model), tools: [weatherTool, timeTool], tool_choice });
      }
      expect(a.requests.map((r) => r.body.toolConfig)).toEqual([
        { functionCallingConfig: { mode: 'NONE' } },
        { functionCallingConfig: { mode: 'AUTO' } },
        { functionCallingConfig: { mode: 'ANY' } },
      ]);
      expect(a.requests[0]!.body.tools[0].functionDeclarations[1]).toEqual({ name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } });
    });

    it('think → thinkingConfig inside the catalogue ceiling; reasoning_effort sets the budget', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({ ...hello(s.model), think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      // No max_tokens: held to the catalogue's ceiling (what was reserved), thoughts included.
      expect(a.requests[0]!.body.generationConfig).toEqual({ maxOutputTokens: 1000, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } });
      await client().chat.completions.create({ ...hello(s.model), reasoning_effort: 'low' });
      expect(a.requests[1]!.body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 1024, includeThoughts: true });
    });

    it('reasoning_effort none on a model declared without reasoning → thinkingBudget 0', async () => {
      const [a] = emulators();
      const s = await route({ onlyA: true, capabilities: { tools: true, vision: true } });
      await client().chat.completions.create({ ...hello(s.model), reasoning_effort: 'none' });
      expect(a.requests[0]!.body.generationConfig).toEqual({ maxOutputTokens: 1000, thinkingConfig: { thinkingBudget: 0 } });
    });

    it('deepsearch and web_search_options → googleSearch grounding', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      await client().chat.completions.create({ ...hello(s.model), tools: [weatherTool], web_search_options: {} });
      expect(a.requests[0]!.body.tools).toEqual([{ googleSearch: {} }]);
      expect(a.requests[1]!.body.tools).toEqual([{ functionDeclarations: [expect.objectContaining({ name: 'get_weather' })] }, { googleSearch: {} }]);
    });

    it('response_format json_schema → responseMimeType and a cleaned responseSchema; n → candidateCount', async () => {
      const [a] = emulators();
      a.setScript({ text: '{"answer":42}' });
      const s = await shared();
      const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
      await client().chat.completions.create({
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
    });

    it('streams through streamGenerateContent with alt=sse', async () => {
      const [a] = emulators();
      const s = await shared();
      await drain(await client().chat.completions.create({ ...hello(s.model), stream: true }));
      expect(a.requests[0]!.path).toBe(`/v1beta/models/${s.upstreamModel}:streamGenerateContent`);
      expect(a.requests[0]!.query).toMatchObject({ alt: 'sse' });
    });

    it('embeds through batchEmbedContents with dimensions → outputDimensionality', async () => {
      const [a] = emulators();
      const s = await route({ kind: 'embedding', onlyA: true });
      const input = ['the quick brown fox', 'jumps over the lazy dog'];
      await client().embeddings.create({ model: s.model, input, dimensions: 16 });
      expect(a.requests[0]!.path).toBe(`/v1beta/models/${s.upstreamModel}:batchEmbedContents`);
      expect(a.requests[0]!.body).toEqual({
        requests: input.map((text) => ({ model: `models/${s.upstreamModel}`, content: { parts: [{ text }] }, outputDimensionality: 16 })),
      });
    });
  });

  describe('errors', () => {
    it('cools a key down on 429 RESOURCE_EXHAUSTED, honouring RetryInfo.retryDelay from the body', async () => {
      const [a, b] = emulators();
      // The relay drops retry-after, so only the body's RetryInfo tells the delay.
      const relay = await startHeaderStrippingRelay(a.url, ['retry-after']);
      try {
        a.enqueue({ status: 429, retryAfter: 45 });
        b.setScript({ text: 'B took it' });
        const s = await route({ keys: [{ baseUrl: relay.url }, { baseUrl: b.url }] });
        const first = await client().chat.completions.create(hello(s.model));
        expect(first.choices[0]!.message.content).toBe('B took it');
        await client().chat.completions.create(hello(s.model));
        expect(a.requests).toHaveLength(1);
        expect(b.requests).toHaveLength(2);
        const health = gw().gateway.health.snapshot(s.keyIds[0]!, 'gemini');
        expect(health.state).toBe('cooling_down');
        const left = Date.parse(health.cooldownUntil!) - Date.now();
        // 45 s from RetryInfo, not the 30 s default.
        expect(left).toBeGreaterThan(40_000);
        expect(left).toBeLessThanOrEqual(45_000);
      } finally {
        await relay.close();
      }
    });
  });
}
