import { describe, expect, it } from 'vitest';
import { openaiChunkSchema } from '../../../src/providers/openai/openai-response-schema.js';
import { plainChunk } from '../../../src/providers/openai/plain-chunk.js';
import { OpenAIStreamTranslator } from '../../../src/providers/openai/stream-translator.js';
import { expectGuardAgrees, recordedFrames, translateFrame } from '../helpers/frame-guard.js';
import { fixture } from '../helpers/replay.js';

const frame = (over: Record<string, unknown> = {}, choice: Record<string, unknown> = {}, delta: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'gpt-4o',
  system_fingerprint: 'fp_1',
  choices: [{ index: 0, delta: { content: 'Hi', ...delta }, logprobs: null, finish_reason: null, ...choice }],
  ...over,
});

// Recorded frames of OpenAI-wire servers and hand-made ones around every check.
const recorded = ['openai-tools.chunks.txt', 'deepseek-reasoner.chunks.txt'].flatMap((name) => recordedFrames(fixture(name)));
const made: unknown[] = [
  frame(),
  frame({}, {}, { role: 'assistant', content: '' }),
  frame({}, { finish_reason: 'stop' }, { content: null }),
  frame({}, {}, { reasoning: 'thinking', content: null }),
  frame({ id: null, created: null, model: null, system_fingerprint: null }),
  frame({ choices: [] }),
  frame({ choices: null }),
  frame({}, { delta: null }),
  frame({}, { index: undefined }),
  frame({ extra: { nested: [1, 2] } }, { extra: true }, { extra: 'kept out' }),
  // Each of these must leave the fast path.
  frame({ usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }),
  frame({ error: { message: 'boom' } }),
  frame({ error: null }),
  frame({}, {}, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }),
  frame({ id: 5 }),
  frame({ created: '1700000000' }),
  frame({ model: ['gpt'] }),
  frame({ system_fingerprint: 1 }),
  frame({ choices: {} }),
  frame({ choices: ['x'] }),
  frame({}, { index: 0.5 }),
  frame({}, { index: '0' }),
  frame({}, { finish_reason: 1 }),
  frame({}, { delta: 'Hi' }),
  frame({}, { delta: [] }),
  frame({}, {}, { content: 5 }),
  frame({}, {}, { role: true }),
  frame({}, {}, { refusal: {} }),
  frame({}, {}, { reasoning_content: 1 }),
  frame({}, {}, { reasoning: [] }),
  null,
  [],
  'data',
];

const translate = (json: unknown) => translateFrame(new OpenAIStreamTranslator('test', 'gpt-4o', 1, 'fallback'), json);

describe('plainChunk', () => {
  it('lets through only frames the schema accepts, and the translator makes the same of them as of the schema output', () => {
    expect(expectGuardAgrees(plainChunk, [openaiChunkSchema], translate, [...recorded, ...made])).toBeGreaterThanOrEqual(12);
  });

  it('takes the plain text frames of recorded streams', () => {
    const text = recorded.filter((json) => {
      const choices = (json as { choices?: Array<{ delta?: { tool_calls?: unknown } }> }).choices ?? [];
      const usage = (json as { usage?: unknown }).usage;
      return usage == null && choices.every((c) => c.delta?.tool_calls == null);
    });
    expect(text.length).toBeGreaterThanOrEqual(3);
    for (const json of text) expect(plainChunk(json)).toBe(json);
  });

  it('sends usage, tool calls, errors and every type out of place to the schema', () => {
    for (const json of made.slice(10)) expect(plainChunk(json), JSON.stringify(json)).toBeUndefined();
  });

  it('leaves the answer to a bad frame to the schema: an unexpected frame is a bad response', () => {
    expect(translate(frame({}, {}, { content: 5 }))).toEqual({ error: 'bad_response' });
    expect(translate(frame({}, { index: 0.5 }))).toEqual({ error: 'bad_response' });
    expect(translate(frame({ choices: {} }))).toEqual({ error: 'bad_response' });
    expect(translate(frame({ error: { message: 'boom' } }))).toEqual({ error: 'retryable' });
  });
});
