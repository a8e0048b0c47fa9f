import { describe, expect, it } from 'vitest';
import { GeminiStreamTranslator } from '../../../src/providers/gemini/stream-translator.js';
import { ProviderError } from '../../../src/contract/provider.js';
import { assemble, fixture, replay } from '../helpers/replay.js';

const translator = () => {
  let n = 0;
  return new GeminiStreamTranslator({ upstreamModel: 'gemini-2.5-flash', now: 1700000000, fallbackId: 'f', newToolCallId: () => `call_${++n}` });
};

describe('GeminiStreamTranslator', () => {
  it('streams thoughts as reasoning, text as content, and usage at EOF', async () => {
    const { chunks, error } = await replay(fixture('gemini-text-thoughts.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['rWRUaL2fH4eP1MkPz5PH-Ac']));
    expect(assemble(chunks)).toEqual({
      content: 'The sky is blue because of Rayleigh scattering.',
      reasoning: 'Considering the question',
      tools: [],
      finish: 'stop',
    });
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 9,
      completion_tokens: 52,
      total_tokens: 61,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 40 },
    });
  });

  it('gives whole function calls indexes from 0 and finishes with tool_calls', async () => {
    const { chunks, error } = await replay(fixture('gemini-function-calls.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(assemble(chunks)).toEqual({
      content: '',
      reasoning: '',
      tools: [
        { id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' },
        { id: 'call_2', name: 'get_time', arguments: '{"zone":"CET"}' },
      ],
      finish: 'tool_calls',
    });
    const deltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(deltas.map((d) => d.index)).toEqual([0, 1]);
  });

  it('finishes a blocked prompt with content_filter', async () => {
    const { chunks, error } = await replay(fixture('gemini-blocked.chunks.txt'), translator());
    expect(error).toBeUndefined();
    expect(assemble(chunks).finish).toBe('content_filter');
    expect(chunks[chunks.length - 1]!.usage?.prompt_tokens).toBe(7);
  });

  it('throws when EOF comes before a finishReason', async () => {
    const { chunks, error } = await replay(fixture('gemini-cut.chunks.txt'), translator());
    expect(assemble(chunks).content).toBe('The sky');
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
  });

  it('throws an error object sent in the stream, classified by its code', async () => {
    const { error } = await replay('data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\n\n', translator());
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).errorClass).toBe('retryable');
    expect((error as ProviderError).message).toContain('overloaded');
  });
});
