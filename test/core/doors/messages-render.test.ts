// The Messages door's translation and rendering, without a server: the chat
// request a Messages body becomes, Anthropic's usage and stop reasons from
// the contract's, and the stream writer's grammar for what upstreams other
// than the emulators send (redacted thinking, stop sequences, no usage).
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../../src/contract/openai-shapes.js';
import { messagesRequestSchema } from '../../../src/core/doors/messages/messages-request.js';
import { MessagesEventWriter } from '../../../src/core/doors/messages/render-events.js';
import { renderMessage } from '../../../src/core/doors/messages/render-message.js';
import { messagesUsage } from '../../../src/core/doors/messages/render-usage.js';
import { messagesToChat } from '../../../src/core/doors/messages/to-chat.js';
import { convertAnthropicUsage } from '../../../src/providers/anthropic/convert-usage.js';

const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], extra: Partial<ChatCompletionChunk['choices'][0]> = {}): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 0,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: null, ...extra }],
});

/** The events a writer's output holds, as [name, data]. */
const parse = (sse: string): Array<[string, Record<string, any>]> =>
  sse
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [event, data] = frame.split('\n');
      return [event!.slice('event: '.length), JSON.parse(data!.slice('data: '.length))];
    });

describe('messagesToChat', () => {
  it('carries tool_choice, stop sequences, the thinking budget and user id into the chat request', () => {
    const req = messagesRequestSchema.parse({
      model: 'm',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 't', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      thinking: { type: 'enabled', budget_tokens: 3000 },
      metadata: { user_id: 'u1' },
    });
    expect(messagesToChat(req)).toMatchObject({
      max_tokens: 4096,
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['END'],
      thinking_budget: 3000,
      reasoning_effort: 'medium',
      user: 'u1',
    });
  });

  it('refuses a server tool other than web search, and a url document, naming the field', () => {
    const tools = messagesRequestSchema.parse({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] });
    expect(messagesToChat(tools).deepsearch).toBe(true);
    const doc = messagesRequestSchema.parse({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/y.pdf' } }] }],
    });
    expect(() => messagesToChat(doc)).toThrow(/url source/);
  });
});

describe('usage in Anthropic terms', () => {
  it('round-trips cache reads and writes by TTL; input never negative', () => {
    const contract = convertAnthropicUsage({
      input_tokens: 10,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
      cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 10 },
      output_tokens: 5,
    });
    expect(contract).toMatchObject({ prompt_tokens: 140, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 20, cache_write_1h_tokens: 10 } });
    expect(messagesUsage(contract)).toEqual({
      input_tokens: 10,
      output_tokens: 5,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
      cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 10 },
    });
    const odd = { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, prompt_tokens_details: { cached_tokens: 9 } };
    expect(messagesUsage(odd).input_tokens).toBe(0);
  });
});

describe('renderMessage', () => {
  it('a stop sequence the upstream named is stop_reason stop_sequence with its value', () => {
    const out = renderMessage(
      {
        id: 'chatcmpl-9',
        object: 'chat.completion',
        created: 0,
        model: 'up',
        choices: [{ index: 0, message: { role: 'assistant', content: 'a', refusal: null }, logprobs: null, finish_reason: 'stop', stop_sequence: 'END' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      },
      'public-model',
    );
    expect(out).toMatchObject({ model: 'public-model', stop_reason: 'stop_sequence', stop_sequence: 'END', content: [{ type: 'text', text: 'a' }] });
    expect(out.id).toMatch(/^msg_/);
  });
});

describe('MessagesEventWriter', () => {
  it('redacted thinking is a whole block; a signature closes its thinking block; a stop sequence reaches message_delta', () => {
    const w = new MessagesEventWriter('m', 7);
    const out =
      w.batch([chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'hmm' }), chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig' }] })]) +
      w.batch([chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }] }), chunk({ content: 'ok' }), chunk({}, { finish_reason: 'stop', stop_sequence: 'END' })]) +
      w.end();
    const events = parse(out);
    expect(events.map(([name]) => name)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[4]![1]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } });
    expect(events[6]![1]).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } });
    expect(events[9]![1]).toMatchObject({ index: 2, delta: { type: 'text_delta', text: 'ok' } });
    // No usage from the upstream: the prompt count and our count of the output.
    expect(events[11]![1]).toMatchObject({ delta: { stop_reason: 'stop_sequence', stop_sequence: 'END' }, usage: { input_tokens: 7 } });
    expect(events[11]![1].usage.output_tokens).toBeGreaterThan(0);
  });

  it('a whole tool call in one chunk (as Gemini sends them) is one tool_use block', () => {
    const w = new MessagesEventWriter('m', 1);
    const out = w.batch([
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'a', arguments: '{"x":1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'b', arguments: '{}' } }] }),
      chunk({}, { finish_reason: 'tool_calls' }),
    ]);
    const blocks = parse(out + w.end()).filter(([name]) => name === 'content_block_start').map(([, data]) => data.content_block);
    expect(blocks).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'a', input: {} },
      { type: 'tool_use', id: 'call_2', name: 'b', input: {} },
    ]);
  });
});
