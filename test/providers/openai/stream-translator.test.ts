import { describe, expect, it } from 'vitest';
import { OpenAIStreamTranslator } from '../../../src/providers/openai/stream-translator.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { assemble, fixture, replay } from '../helpers/replay.js';

const translator = () => new OpenAIStreamTranslator('openai', 'gpt-4o', 1700000000, 'chatcmpl-fallback');

describe('OpenAIStreamTranslator', () => {
  it('passes tool-call fragments through and ends with one usage chunk', async () => {
    const { chunks, error } = await replay(fixture('openai-tools.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG']));
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(assemble(chunks)).toEqual({
      content: '',
      reasoning: '',
      tools: [{ id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris"}' }],
      finish: 'tool_calls',
    });
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.total_tokens).toBe(75);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);
  });

  it('adds the role chunk DeepSeek skips and moves usage off its finish chunk', async () => {
    const { chunks, error } = await replay(fixture('deepseek-reasoner.chunks.txt'), new OpenAIStreamTranslator('deepseek', 'deepseek-reasoner', 1, 'x'));
    expect(error).toBeUndefined();
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const assembled = assemble(chunks);
    expect(assembled.reasoning).toBe('Let me think');
    expect(assembled.content).toBe('9.8 is greater.');
    expect(assembled.finish).toBe('stop');
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 120, completion_tokens_details: { reasoning_tokens: 110 } });
    expect(chunks.filter((c) => c.usage).length).toBe(1);
  });

  it('throws a retryable error when the stream ends before a finish', async () => {
    const text = fixture('openai-tools.chunks.txt').split('\n\n').slice(0, 2).join('\n\n') + '\n\n';
    const { chunks, error } = await replay(text, translator());
    expect(chunks.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('throws on a malformed frame, retryable when nothing was yielded', async () => {
    const { chunks, error } = await replay('data: {"id":"x","choices":[{"delta":{"content":"a"\n\n', translator());
    expect(chunks).toEqual([]);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('throws on an error object in the stream', async () => {
    const { error } = await replay('data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n', translator());
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toContain('The server had an error');
  });
});
