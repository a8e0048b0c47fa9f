import { describe, expect, it } from 'vitest';
import { AnthropicStreamTranslator } from '../../../src/providers/anthropic/stream-translator.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { assemble, fixture, replay } from '../helpers/replay.js';

const translator = (jsonToolName?: string) =>
  new AnthropicStreamTranslator({ upstreamModel: 'claude', now: 1700000000, fallbackId: 'msg_fallback', ...(jsonToolName ? { jsonToolName } : {}) });

describe('AnthropicStreamTranslator', () => {
  it('streams text with a role chunk first, a finish chunk and a usage chunk', async () => {
    const { chunks, error } = await replay(fixture('anthropic-text.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['msg_01XFDUDYJgAACzvnptvVoYEL']));
    expect(chunks.every((c) => c.model === 'claude-sonnet-4-5-20250929')).toBe(true);
    expect(assemble(chunks)).toMatchObject({ content: 'Hello wörld ✓', finish: 'stop' });
    const finish = chunks[chunks.length - 2]!;
    expect(finish.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    const usage = chunks[chunks.length - 1]!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 35, completion_tokens: 15, prompt_tokens_details: { cached_tokens: 10 } });
  });

  it('streams thinking, then tool calls with indexes from 0 and argument fragments', async () => {
    const { chunks, error } = await replay(fixture('anthropic-thinking-tools.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(assemble(chunks)).toEqual({
      content: 'Let me check.',
      reasoning: 'The user wants weather for two cities.',
      tools: [
        { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '{"location": "San Francisco, CA"}' },
        { id: 'toolu_02ABCDEF', name: 'get_weather', arguments: '{"location": "Paris"}' },
      ],
      finish: 'tool_calls',
    });
    const first = chunks.find((c) => c.choices[0]?.delta.tool_calls)!;
    expect(first.choices[0]!.delta.tool_calls).toEqual([
      { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ]);
    expect(chunks[chunks.length - 1]!.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it("carries a thinking block's signature, redacted thinking, the stop sequence and cache writes by TTL", () => {
    const t = translator();
    const ev = (data: unknown) => t.push({ data: JSON.stringify(data), event: undefined, id: undefined });
    ev({ type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 5, cache_creation_input_tokens: 30, cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 } } } });
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hm' } });
    const signed = ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } });
    expect(signed[0]!.choices[0]!.delta).toEqual({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig' }] });
    const redacted = ev({ type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } });
    expect(redacted[0]!.choices[0]!.delta).toEqual({ thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }] });
    const end = ev({ type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: 'END' }, usage: { output_tokens: 3 } });
    expect(end[0]!.choices[0]).toMatchObject({ finish_reason: 'stop', stop_sequence: 'END' });
    expect(end[1]!.usage).toMatchObject({ prompt_tokens: 35, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 10, cache_write_1h_tokens: 20 } });
  });

  it('streams the forced JSON tool as content', async () => {
    const text = fixture('anthropic-thinking-tools.chunks.txt').replaceAll('"name":"get_weather"', '"name":"json_tool_call"');
    const { chunks } = await replay(text, translator('json_tool_call'));
    const assembled = assemble(chunks);
    expect(assembled.tools).toEqual([]);
    expect(assembled.content).toBe('Let me check.{"location": "San Francisco, CA"}{"location": "Paris"}');
    expect(assembled.finish).toBe('stop');
  });

  it('ignores server tool blocks and takes the cumulative usage of message_delta', async () => {
    const { chunks, error } = await replay(fixture('anthropic-web-search.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(assemble(chunks)).toEqual({ content: 'It is sunny.', reasoning: '', tools: [], finish: 'stop' });
    expect(chunks[chunks.length - 1]!.usage).toMatchObject({ prompt_tokens: 10682, completion_tokens: 510 });
  });

  it('throws the mid-stream error event as a ProviderError after the text before it', async () => {
    const { chunks, error } = await replay(fixture('anthropic-error-midstream.chunks.txt'), translator());
    expect(assemble(chunks).content).toBe('Hel');
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
    expect((error as ProviderError).message).toContain('overloaded_error');
  });

  it('throws when the stream ends without message_delta', async () => {
    const { error } = await replay(fixture('anthropic-cut.chunks.txt'), translator());
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('throws on a malformed frame', async () => {
    const text = fixture('anthropic-text.chunks.txt').replace('"text":"Hello"}}', '"text":"Hello"');
    const { chunks, error } = await replay(text, translator());
    expect(chunks.length).toBeGreaterThan(0);
    expect((error as ProviderError).errorClass).toBe('bad_response');
  });
});
