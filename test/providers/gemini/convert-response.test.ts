import { describe, expect, it } from 'vitest';
import { convertGeminiEmbeddingResponse, toGeminiBatchEmbedBody } from '../../../src/providers/gemini/convert-embedding.js';
import { convertGeminiResponse } from '../../../src/providers/gemini/convert-response.js';
import { geminiErrorDetails } from '../../../src/providers/gemini/gemini-error.js';
import { geminiResponseSchema } from '../../../src/providers/gemini/gemini-response-schema.js';
import { mapGeminiFinishReason } from '../../../src/providers/gemini/map-finish-reason.js';
import { ProviderError } from '../../../src/contract/provider.js';

let ids = 0;
const options = () => ({ upstreamModel: 'gemini-2.5-flash', now: 1700000000, fallbackId: 'chatcmpl-f', newToolCallId: () => `call_${++ids}` });

describe('convertGeminiResponse', () => {
  it('separates thoughts from text, makes tool calls and reports tool_calls despite STOP', () => {
    ids = 0;
    const res = geminiResponseSchema.parse({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'Thinking about it', thought: true },
              { text: 'Checking ' },
              { text: 'now.' },
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig' },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 7, cachedContentTokenCount: 3, totalTokenCount: 22 },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'resp1',
    });
    expect(convertGeminiResponse(res, options())).toEqual({
      id: 'resp1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking now.',
            refusal: null,
            reasoning_content: 'Thinking about it',
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 12,
        total_tokens: 22,
        prompt_tokens_details: { cached_tokens: 3 },
        completion_tokens_details: { reasoning_tokens: 7 },
      },
    });
  });

  it('answers a blocked prompt with content_filter', () => {
    const res = geminiResponseSchema.parse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } });
    const out = convertGeminiResponse(res, options());
    expect(out.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: 'content_filter' }]);
    expect(out.usage.prompt_tokens).toBe(4);
  });

  it('treats no candidates without a block reason as a bad response', () => {
    expect(() => convertGeminiResponse(geminiResponseSchema.parse({}), options())).toThrow(ProviderError);
  });
});

describe('mapGeminiFinishReason', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'stop'],
    [undefined, false, 'stop'],
  ] as const)('%s (calls: %s) → %s', (reason, calls, finish) => {
    expect(mapGeminiFinishReason(reason, calls)).toBe(finish);
  });
});

describe('gemini errors', () => {
  it('sees an invalid key in a 400 by its reason', () => {
    expect(
      geminiErrorDetails({
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
        },
      }),
    ).toEqual({ message: 'INVALID_ARGUMENT: API key not valid. Please pass a valid API key.', errorClass: 'key_fatal' });
  });
  it('reads RetryInfo.retryDelay, also from an array-wrapped body', () => {
    const body = [{ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }] } }];
    expect(geminiErrorDetails(body)).toEqual({ message: 'RESOURCE_EXHAUSTED: quota', retryAfterMs: 2500 });
  });
});

describe('gemini embeddings', () => {
  it('builds batchEmbedContents with outputDimensionality', () => {
    expect(toGeminiBatchEmbedBody({ model: 'e', input: ['a', 'b'], dimensions: 256 }, 'gemini-embedding-001')).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 256 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 256 },
      ],
    });
  });
  it('refuses token arrays', () => {
    expect(() => toGeminiBatchEmbedBody({ model: 'e', input: [1, 2, 3] }, 'g')).toThrow(/token-array/);
  });
  it('counts tokens itself and checks the count of vectors', () => {
    const out = convertGeminiEmbeddingResponse({ embeddings: [{ values: [0.1, 0.2] }] }, { model: 'e', input: 'hello world' }, 'g');
    expect(out.data).toEqual([{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }]);
    expect(out.usage.prompt_tokens).toBeGreaterThan(0);
    expect(() => convertGeminiEmbeddingResponse({ embeddings: [] }, { model: 'e', input: 'x' }, 'g')).toThrow(ProviderError);
  });
});
