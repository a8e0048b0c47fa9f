import { describe, expect, it } from 'vitest';
import { chatRequestSchema } from '../../../src/contract/chat-request.js';
import { convertOpenAIResponse } from '../../../src/providers/openai/convert-response.js';
import { convertOpenAIEmbeddingResponse, toOpenAIEmbeddingBody } from '../../../src/providers/openai/convert-embedding.js';
import { embeddingToBase64 } from '../../../src/contract/embedding-base64.js';
import { mapOpenAIFinishReason } from '../../../src/providers/openai/map-finish-reason.js';
import { openaiCompletionSchema } from '../../../src/providers/openai/openai-response-schema.js';

const req = chatRequestSchema.parse({ model: 'x', messages: [{ role: 'user', content: 'hello there' }] });
const options = { upstreamModel: 'deepseek-reasoner', now: 1700000000, fallbackId: 'chatcmpl-fallback' };

describe('convertOpenAIResponse', () => {
  it('surfaces reasoning_content, tool calls and DeepSeek cache usage', () => {
    const res = openaiCompletionSchema.parse({
      id: 'abc',
      object: 'chat.completion',
      created: 1,
      model: 'deepseek-reasoner',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            reasoning_content: 'thinking…',
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_cache_hit_tokens: 4, completion_tokens_details: { reasoning_tokens: 3 } },
    });
    const out = convertOpenAIResponse(res, req, options);
    expect(out.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        reasoning_content: 'thinking…',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    expect(out.usage).toEqual({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
  });

  it('renames `reasoning` and estimates usage a compatible server left out', () => {
    const res = openaiCompletionSchema.parse({ choices: [{ message: { content: 'Hi!', reasoning: 'hmm' }, finish_reason: 'eos' }] });
    const out = convertOpenAIResponse(res, req, options);
    expect(out.id).toBe('chatcmpl-fallback');
    expect(out.created).toBe(1700000000);
    expect(out.model).toBe('deepseek-reasoner');
    expect(out.choices[0]!.message.reasoning_content).toBe('hmm');
    expect(out.choices[0]!.finish_reason).toBe('stop');
    expect(out.usage.prompt_tokens).toBeGreaterThan(0);
    expect(out.usage.completion_tokens).toBeGreaterThan(0);
  });
});

describe('mapOpenAIFinishReason', () => {
  it('keeps OpenAI reasons and reads unknown ones as stop', () => {
    expect(mapOpenAIFinishReason('length')).toBe('length');
    expect(mapOpenAIFinishReason('content_filter')).toBe('content_filter');
    expect(mapOpenAIFinishReason('end_turn')).toBe('stop');
    expect(mapOpenAIFinishReason(null)).toBe('stop');
  });
});

describe('embeddings', () => {
  const embReq = { model: 'emb', input: ['a', 'b'], encoding_format: 'base64' as const, mockX: 1 };

  it('asks upstream for floats and strips gateway fields', () => {
    expect(toOpenAIEmbeddingBody(embReq, 'text-embedding-3-small')).toEqual({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
    });
  });

  it('encodes base64 itself, in index order', () => {
    const out = convertOpenAIEmbeddingResponse(
      { data: [{ index: 1, embedding: [0.5] }, { index: 0, embedding: [1, -2] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 2, total_tokens: 2 } },
      embReq,
      'text-embedding-3-small',
    );
    expect(out.data.map((d) => d.index)).toEqual([0, 1]);
    expect(out.data[0]!.embedding).toBe(embeddingToBase64([1, -2]));
    const bytes = Buffer.from(out.data[0]!.embedding as string, 'base64');
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([1, -2]);
    expect(out.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });
});
