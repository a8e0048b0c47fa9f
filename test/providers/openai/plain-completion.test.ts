import { describe, expect, it } from 'vitest';
import { chatRequestSchema } from '../../../src/contract/chat-request.js';
import { convertOpenAIResponse } from '../../../src/providers/openai/convert-response.js';
import { openaiCompletionSchema, type OpenAICompletion } from '../../../src/providers/openai/openai-response-schema.js';
import { plainCompletion } from '../../../src/providers/openai/plain-completion.js';
import { expectGuardAgrees } from '../helpers/frame-guard.js';

const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
const body = (over: Record<string, unknown> = {}, choice: Record<string, unknown> = {}, message: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'gpt-4o',
  system_fingerprint: 'fp_1',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', refusal: null, ...message }, logprobs: null, finish_reason: 'stop', ...choice }],
  usage,
  ...over,
});

const bodies: unknown[] = [
  body(),
  body({}, {}, { content: null, reasoning_content: 'thinking' }),
  body({}, {}, { reasoning: 'vLLM calls it this' }),
  body({ usage: { ...usage, prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 1 } } }),
  body({ usage: { prompt_tokens: 9, prompt_cache_hit_tokens: 4, prompt_cache_miss_tokens: 5 } }),
  // Cache writes as another gateway (or OpenRouter) reports them.
  body({ usage: { ...usage, prompt_tokens_details: { cached_tokens: 2, cache_write_tokens: 3, cache_write_1h_tokens: 1 } } }),
  body({ usage: { prompt_tokens: 9, completion_tokens: null, total_tokens: 12, prompt_tokens_details: null } }),
  body({ usage: null }),
  body({ usage: undefined }),
  body({ id: null, created: null, model: null, system_fingerprint: null }),
  body({ choices: [] }),
  body({ service_tier: 'default' }, { extra: 1 }, { extra: true }),
  // Each of these must go through the schema.
  body({}, {}, { tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
  body({}, {}, { annotations: [{ type: 'url_citation' }] }),
  body({ usage: { completion_tokens: 3 } }),
  body({ usage: { prompt_tokens: -1 } }),
  body({ usage: { prompt_tokens: 1.5 } }),
  body({ usage: { prompt_tokens: 9, total_tokens: '12' } }),
  body({ usage: { prompt_tokens: 9, prompt_tokens_details: { cached_tokens: 0.5 } } }),
  body({ usage: { prompt_tokens: 9, prompt_tokens_details: { cache_write_tokens: '5' } } }),
  body({ usage: { prompt_tokens: 9, prompt_tokens_details: { cache_write_1h_tokens: 1.5 } } }),
  body({ usage: { prompt_tokens: 9, completion_tokens_details: 'x' } }),
  body({ usage: { prompt_tokens: 9, prompt_cache_hit_tokens: '4' } }),
  body({ usage: 12 }),
  body({ choices: null }),
  body({ choices: {} }),
  body({ id: 1 }),
  body({ created: '1' }),
  body({ model: {} }),
  body({ system_fingerprint: [] }),
  body({}, { index: 0.5 }),
  body({}, { finish_reason: 1 }),
  body({}, { message: 'Hi' }),
  body({}, { message: null }),
  body({}, {}, { content: 5 }),
  body({}, {}, { refusal: {} }),
  body({}, {}, { reasoning_content: 1 }),
  null,
  [],
];

const req = chatRequestSchema.parse({ model: 'x', messages: [{ role: 'user', content: 'hello there' }] });
const translate = (json: unknown) => convertOpenAIResponse(json as OpenAICompletion, req, { upstreamModel: 'gpt-4o', now: 1, fallbackId: 'chatcmpl-fallback' });

describe('plainCompletion', () => {
  it('lets through only bodies the schema accepts, and the conversion makes the same of them as of the schema output', () => {
    expect(expectGuardAgrees(plainCompletion, [openaiCompletionSchema], translate, bodies)).toBe(12);
  });

  it('carries the cache writes an OpenAI-wire upstream reports', () => {
    expect(translate(bodies[5]).usage.prompt_tokens_details).toEqual({ cached_tokens: 2, cache_write_tokens: 3, cache_write_1h_tokens: 1 });
  });

  it('sends tool calls, annotations and every type out of place to the schema', () => {
    for (const json of bodies.slice(12)) expect(plainCompletion(json), JSON.stringify(json)).toBeUndefined();
    for (const json of bodies.slice(14)) expect(openaiCompletionSchema.safeParse(json).success, JSON.stringify(json)).toBe(false);
  });
});
