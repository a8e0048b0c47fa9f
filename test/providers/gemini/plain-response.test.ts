import { describe, expect, it } from 'vitest';
import { geminiResponseSchema } from '../../../src/providers/gemini/gemini-response-schema.js';
import { plainResponse } from '../../../src/providers/gemini/plain-response.js';
import { GeminiStreamTranslator } from '../../../src/providers/gemini/stream-translator.js';
import { expectGuardAgrees, recordedFrames, translateFrame } from '../helpers/frame-guard.js';
import { fixture } from '../helpers/replay.js';

const usage = { promptTokenCount: 9, candidatesTokenCount: 3, totalTokenCount: 12 };
const frame = (over: Record<string, unknown> = {}, candidate: Record<string, unknown> = {}, part: Record<string, unknown> = {}) => ({
  candidates: [{ content: { parts: [{ text: 'Hi', ...part }], role: 'model' }, index: 0, ...candidate }],
  usageMetadata: usage,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp_1',
  ...over,
});

const recorded = ['gemini-text-thoughts.chunks.txt', 'gemini-function-calls.chunks.txt', 'gemini-blocked.chunks.txt', 'gemini-cut.chunks.txt'].flatMap((name) =>
  recordedFrames(fixture(name)),
);
const made: unknown[] = [
  frame(),
  frame({}, {}, { thought: true }),
  frame({}, { finishReason: 'STOP' }),
  frame({ usageMetadata: { ...usage, thoughtsTokenCount: 4, cachedContentTokenCount: 2, toolUsePromptTokenCount: 1, promptTokensDetails: [] } }),
  frame({ usageMetadata: null, modelVersion: null, responseId: null }),
  frame({ candidates: [] }),
  frame({}, { content: null }),
  frame({}, { content: { role: 'model', parts: null } }),
  frame({ extra: 1 }, { safetyRatings: [] }, { extra: true }),
  // Each of these must leave the fast path.
  frame({}, {}, { functionCall: { name: 'f', args: {} } }),
  frame({ promptFeedback: { blockReason: 'SAFETY' }, candidates: null }),
  frame({ error: { code: 500, message: 'boom' } }),
  frame({ usageMetadata: { promptTokenCount: -1 } }),
  frame({ usageMetadata: { candidatesTokenCount: 1.5 } }),
  frame({ usageMetadata: { totalTokenCount: '12' } }),
  frame({ usageMetadata: 'lots' }),
  frame({ modelVersion: 2 }),
  frame({ responseId: {} }),
  frame({ candidates: {} }),
  frame({}, { index: -1 }),
  frame({}, { index: '0' }),
  frame({}, { finishReason: 1 }),
  frame({}, { content: 'Hi' }),
  frame({}, { content: { role: 1, parts: [] } }),
  frame({}, { content: { role: 'model', parts: {} } }),
  frame({}, {}, { text: 5 }),
  frame({}, {}, { thought: 'yes' }),
  null,
  [],
];

const translate = (json: unknown) =>
  translateFrame(new GeminiStreamTranslator({ upstreamModel: 'gemini', now: 1, fallbackId: 'f', newToolCallId: () => 'call_1' }), json);

describe('plainResponse', () => {
  it('lets through only frames the schema accepts, and the translator makes the same of them as of the schema output', () => {
    expect(expectGuardAgrees(plainResponse, [geminiResponseSchema], translate, [...recorded, ...made])).toBeGreaterThanOrEqual(12);
  });

  it('takes the text frames of recorded streams', () => {
    const text = recordedFrames(fixture('gemini-text-thoughts.chunks.txt'));
    expect(text.length).toBeGreaterThanOrEqual(3);
    for (const json of text) expect(plainResponse(json)).toBe(json);
  });

  it('sends function calls, prompt feedback, errors and every type out of place to the schema, which calls a bad frame a bad response', () => {
    for (const json of made.slice(9)) expect(plainResponse(json), JSON.stringify(json)).toBeUndefined();
    expect(translate(frame({}, {}, { text: 5 }))).toEqual({ error: 'bad_response' });
    expect(translate(frame({ usageMetadata: { promptTokenCount: -1 } }))).toEqual({ error: 'bad_response' });
    expect(translate(frame({}, { index: -1 }))).toEqual({ error: 'bad_response' });
  });
});
