// What only Anthropic does, run by the conformance suite on its gateway
// (provider-conformance.test.ts; `-t anthropic` runs Anthropic alone): how a
// request is spelled in the Messages API, checked on the body the emulator
// received. What the client sees and what is billed is the suite's.
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { drain, instructionsAndImages, PNG, type ProviderEnv, timeTool, weatherAndTimeCalls, weatherTool } from './provider-support.js';

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello Claude' }] });

export function anthropicQuirks({ client, emulators, shared }: ProviderEnv): void {
  describe('the Messages API body', () => {
    it('translates a full request: system, images, tool history, tools, stop, user', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({
        model: s.model,
        messages: [
          ...instructionsAndImages('https://example.com/cat.jpg'),
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
      });

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
    });

    it('merges the results of parallel tool calls into one user turn of tool_result blocks', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({
        model: s.model,
        messages: [
          ...weatherAndTimeCalls({ weather: 'toolu_w', time: 'toolu_t' }, ''),
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
      const [a] = emulators();
      const s = await shared();
      for (const tool_choice of ['auto', 'required', 'none'] as const) {
        await client().chat.completions.create({ ...hello(s.model), tools: [weatherTool], tool_choice, max_completion_tokens: 300 });
      }
      expect(a.requests.map((r) => r.body.tool_choice)).toEqual([{ type: 'auto' }, { type: 'any' }, { type: 'none' }]);
      expect(a.requests.map((r) => r.body.max_tokens)).toEqual([300, 300, 300]);
    });

    it('think → thinking with a budget inside max_tokens and no temperature, in answers and streams; reasoning_effort sets the budget', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({ ...hello(s.model), max_tokens: 3000, think: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(a.requests[0]!.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1500 }, max_tokens: 3000 });
      expect(a.requests[0]!.body.temperature).toBeUndefined();
      await client().chat.completions.create({ ...hello(s.model), reasoning_effort: 'high' });
      expect(a.requests[1]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
      await drain(await client().chat.completions.create({ ...hello(s.model), stream: true, think: true } as OpenAI.ChatCompletionCreateParamsStreaming));
      expect(a.requests[2]!.body).toMatchObject({ stream: true, thinking: { type: 'enabled', budget_tokens: 2048 } });
    });

    it('deepsearch and web_search_options → the server-side web_search tool', async () => {
      const [a] = emulators();
      const s = await shared();
      await client().chat.completions.create({ ...hello(s.model), deepsearch: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      await client().chat.completions.create({ ...hello(s.model), tools: [weatherTool], web_search_options: { search_context_size: 'high' } });
      expect(a.requests[0]!.body.tools).toEqual([{ type: 'web_search_20250305', name: 'web_search' }]);
      expect(a.requests[1]!.body.tools).toEqual([
        { name: 'get_weather', description: 'Weather for a city', input_schema: weatherTool.function.parameters },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 10 },
      ]);
    });

    it('response_format json_schema → a forced tool whose input is the answer', async () => {
      const [a] = emulators();
      a.setScript({ toolCalls: [{ name: 'json_tool_call', arguments: { answer: 42 } }] });
      const s = await shared();
      const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
      await client().chat.completions.create({ ...hello(s.model), response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } });
      expect(a.requests[0]!.body.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
      expect(a.requests[0]!.body.tools[0]).toMatchObject({ name: 'json_tool_call', input_schema: schema });
    });
  });
}
