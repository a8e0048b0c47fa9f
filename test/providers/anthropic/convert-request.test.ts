import { describe, expect, it } from 'vitest';
import { chatRequestSchema, type ChatRequest } from '../../../src/contract/chat-request.js';
import { toAnthropicRequest } from '../../../src/providers/anthropic/convert-request.js';
import { ProviderError } from '../../../src/contract/provider.js';

const request = (extra: Record<string, unknown>): ChatRequest =>
  chatRequestSchema.parse({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rejection(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProviderError) return err;
    throw err;
  }
  throw new Error('expected a ProviderError');
}

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('toAnthropicRequest', () => {
  it('moves system and developer messages to system and defaults max_tokens', () => {
    const { body } = toAnthropicRequest(
      request({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
          { role: 'user', content: 'Weather?' },
        ],
      }),
      'claude-sonnet-4-5',
      false,
    );
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Use metric.' },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather?' }] }],
    });
  });

  it('turns tool calls in history into tool_use and merges tool results into one user turn', () => {
    const { body } = toAnthropicRequest(
      request({
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
          { role: 'user', content: 'Thanks' },
        ],
      }),
      'm',
      false,
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });

  it('sends data: images as base64 and http images as url sources', () => {
    const { body } = toAnthropicRequest(
      request({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            ],
          },
        ],
      }),
      'm',
      false,
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('maps tools, tool_choice, parallel_tool_calls, stop, sampling and user', () => {
    const { body } = toAnthropicRequest(
      request({
        tools: [weatherTool],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stop: 'END',
        temperature: 0.3,
        top_p: 0.9,
        max_completion_tokens: 300,
        user: 'user-42',
      }),
      'm',
      true,
    );
    expect(body).toMatchObject({
      max_tokens: 300,
      stream: true,
      stop_sequences: ['END'],
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: weatherTool.function.parameters }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    [{ type: 'function', function: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
  ])('maps tool_choice %j', (choice, expected) => {
    expect(toAnthropicRequest(request({ tools: [weatherTool], tool_choice: choice }), 'm', false).body.tool_choice).toEqual(expected);
  });

  it('forces a JSON tool for response_format json_schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const plan = toAnthropicRequest(
      request({ response_format: { type: 'json_schema', json_schema: { name: 'reply', schema, strict: true } } }),
      'm',
      false,
    );
    expect(plan.jsonToolName).toBe('json_tool_call');
    expect(plan.body.tools).toEqual([{ name: 'json_tool_call', description: 'Respond with reply as JSON.', input_schema: schema }]);
    expect(plan.body.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
  });

  it('turns think into a thinking budget that fits inside max_tokens (what the gateway reserved)', () => {
    expect(toAnthropicRequest(request({ think: true }), 'm', false).body).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 2048 },
      max_tokens: 4096,
    });
    expect(toAnthropicRequest(request({ reasoning_effort: 'high', max_tokens: 3000 }), 'm', false).body).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 1500 },
      max_tokens: 3000,
    });
    expect(() => toAnthropicRequest(request({ think: true, max_tokens: 1000 }), 'm', false)).toThrow(/max_tokens must be above 1024/);
    expect(toAnthropicRequest(request({ reasoning_effort: 'low' }), 'm', false).body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(toAnthropicRequest(request({ think: true, reasoning_effort: 'none' }), 'm', false).body).not.toHaveProperty('thinking');
  });

  it('runs a continued tool loop without thinking (no signed thinking block to replay)', () => {
    const { body } = toAnthropicRequest(
      request({
        think: true,
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 't1', content: 'sunny' },
        ],
      }),
      'm',
      false,
    );
    expect(body).not.toHaveProperty('thinking');
  });

  it('adds the web_search server tool for deepsearch', () => {
    expect(toAnthropicRequest(request({ deepsearch: true }), 'm', false).body.tools).toEqual([
      { type: 'web_search_20250305', name: 'web_search' },
    ]);
    expect(toAnthropicRequest(request({ web_search_options: { search_context_size: 'high' } }), 'm', false).body.tools).toEqual([
      { type: 'web_search_20250305', name: 'web_search', max_uses: 10 },
    ]);
  });

  it.each([
    [{ n: 2 }, 'n > 1'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ seed: 7 }, 'seed'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ reasoning_effort: 'turbo' }, 'reasoning_effort'],
    [{ think: true, temperature: 0.2 }, 'temperature'],
    [{ think: true, response_format: { type: 'json_object' } }, 'response_format'],
    [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } }] }] }, 'input_audio'],
  ])('rejects what it cannot honour: %j', (extra, option) => {
    const err = rejection(() => toAnthropicRequest(request(extra), 'm', false));
    expect(err.errorClass).toBe('client');
    expect(err.clientStatus).toBe(400);
    expect(err.message).toContain(option);
  });

  it('accepts option defaults that change nothing', () => {
    expect(() => toAnthropicRequest(request({ n: 1, logprobs: false, presence_penalty: 0 }), 'm', false)).not.toThrow();
  });
});
