import { describe, expect, it } from 'vitest';
import { anthropicMessageSchema } from '../../../src/providers/anthropic/anthropic-response-schema.js';
import { convertAnthropicResponse } from '../../../src/providers/anthropic/convert-response.js';
import { mapAnthropicStopReason } from '../../../src/providers/anthropic/map-stop-reason.js';
import { anthropicErrorDetails, anthropicStreamError } from '../../../src/providers/anthropic/anthropic-error.js';

const options = { upstreamModel: 'claude-sonnet-4-5', now: 1700000000 };

const message = (content: unknown[], stop_reason = 'end_turn') =>
  anthropicMessageSchema.parse({
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content,
    stop_reason,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 30, cache_creation_input_tokens: 20 },
  });

describe('convertAnthropicResponse', () => {
  it('joins text, turns tool_use into tool_calls and thinking into reasoning_content', () => {
    const out = convertAnthropicResponse(
      message(
        [
          { type: 'thinking', thinking: 'Need weather.', signature: 'sig' },
          { type: 'text', text: 'Let me ' },
          { type: 'text', text: 'check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        ],
        'tool_use',
      ),
      options,
    );
    expect(out).toEqual({
      id: 'msg_01',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            refusal: null,
            reasoning_content: 'Need weather.',
            // Signed, so a later turn can send it back to Anthropic as it was.
            thinking_blocks: [{ type: 'thinking', thinking: 'Need weather.', signature: 'sig' }],
            tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 150,
        completion_tokens: 50,
        total_tokens: 200,
        // Cache creation without a TTL breakdown: 5-minute writes.
        prompt_tokens_details: { cached_tokens: 30, cache_write_tokens: 20 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it('gives null content when there is no text and skips server tool blocks', () => {
    const out = convertAnthropicResponse(
      message([
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
        { type: 'redacted_thinking', data: 'abc' },
      ]),
      options,
    );
    expect(out.choices[0]!.message.content).toBeNull();
    expect(out.choices[0]!.message).not.toHaveProperty('tool_calls');
  });

  it('turns the forced JSON tool back into content with finish stop', () => {
    const out = convertAnthropicResponse(
      message([{ type: 'tool_use', id: 'toolu_9', name: 'json_tool_call', input: { answer: '42' } }], 'tool_use'),
      { ...options, jsonToolName: 'json_tool_call' },
    );
    expect(out.choices[0]!.message.content).toBe('{"answer":"42"}');
    expect(out.choices[0]!.finish_reason).toBe('stop');
  });

  it('rejects a malformed known block', () => {
    expect(anthropicMessageSchema.safeParse({ id: 'm', content: [{ type: 'tool_use', id: 'x' }], usage: {} }).success).toBe(false);
  });
});

describe('mapAnthropicStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, 'stop'],
  ])('%s → %s', (reason, finish) => {
    expect(mapAnthropicStopReason(reason)).toBe(finish);
  });
});

describe('anthropic errors', () => {
  it('reads the error body', () => {
    expect(
      anthropicErrorDetails({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: 'req_1' }),
    ).toEqual({ message: 'invalid_request_error: max_tokens: Field required' });
    expect(anthropicErrorDetails('<html>')).toEqual({});
  });

  it.each([
    ['overloaded_error', 'retryable'],
    ['api_error', 'retryable'],
    ['rate_limit_error', 'retryable'],
    ['authentication_error', 'key_fatal'],
    ['invalid_request_error', 'client'],
    ['something_new', 'retryable'],
  ])('classifies a mid-stream %s as %s', (type, errorClass) => {
    expect(anthropicStreamError({ type: 'error', error: { type, message: 'm' } }).errorClass).toBe(errorClass);
  });
});
