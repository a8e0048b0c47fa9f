import { describe, expect, it } from 'vitest';
import { contentBlockDeltaSchema, streamEventSchema } from '../../../src/providers/anthropic/anthropic-stream-schema.js';
import { plainBlockDelta } from '../../../src/providers/anthropic/plain-delta.js';
import { AnthropicStreamTranslator } from '../../../src/providers/anthropic/stream-translator.js';
import { expectGuardAgrees, recordedFrames, translateFrame } from '../helpers/frame-guard.js';
import { fixture } from '../helpers/replay.js';

const delta = (index: unknown, d: unknown, over: Record<string, unknown> = {}) => ({ type: 'content_block_delta', index, delta: d, ...over });

const recorded = ['anthropic-text.chunks.txt', 'anthropic-thinking-tools.chunks.txt', 'anthropic-web-search.chunks.txt'].flatMap((name) =>
  recordedFrames(fixture(name)),
);
const made: unknown[] = [
  delta(0, { type: 'text_delta', text: 'Hi' }),
  delta(1, { type: 'thinking_delta', thinking: 'hmm' }),
  delta(2, { type: 'input_json_delta', partial_json: '{"a":' }),
  delta(3, { type: 'input_json_delta', partial_json: '1}' }),
  delta(0, { type: 'signature_delta', signature: 'abc' }),
  delta(0, { type: 'citations_delta', citation: { url: 'x' } }, { extra: 1 }),
  delta(0, { type: 'text_delta', text: null }),
  // Each of these must leave the fast path.
  delta(-1, { type: 'text_delta', text: 'Hi' }),
  delta(0.5, { type: 'text_delta', text: 'Hi' }),
  delta('0', { type: 'text_delta', text: 'Hi' }),
  delta(0, { type: 5, text: 'Hi' }),
  delta(0, { text: 'Hi' }),
  delta(0, { type: 'text_delta', text: 5 }),
  delta(0, { type: 'thinking_delta', thinking: {} }),
  delta(0, { type: 'input_json_delta', partial_json: [] }),
  delta(0, 'Hi'),
  delta(0, null),
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } },
  null,
  [],
];

/** A translator past a message start and one block of each kind (0 text, 1 thinking, 2 tool, 3 forced JSON tool). */
function translator() {
  const t = new AnthropicStreamTranslator({ upstreamModel: 'claude', now: 1, fallbackId: 'msg_x', jsonToolName: 'json_out' });
  const events = [
    { type: 'message_start', message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 3, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '' } },
    { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} } },
    { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'toolu_2', name: 'json_out', input: {} } },
  ];
  for (const e of events) t.push({ data: JSON.stringify(e), event: e.type, id: undefined });
  return t;
}

const translate = (json: unknown) => translateFrame(translator(), json);

describe('plainBlockDelta', () => {
  it('lets through only deltas both schemas accept, and the translator makes the same of them as of the schema output', () => {
    expect(expectGuardAgrees(plainBlockDelta, [streamEventSchema, contentBlockDeltaSchema], translate, [...recorded, ...made])).toBeGreaterThanOrEqual(19);
  });

  it('takes every content_block_delta of recorded streams', () => {
    const deltas = recorded.filter((json) => (json as { type?: string }).type === 'content_block_delta');
    expect(deltas.length).toBeGreaterThanOrEqual(10);
    for (const json of deltas) expect(plainBlockDelta(json)).toBe(json);
  });

  it('sends other events and every type out of place to the schemas, which call a bad delta a bad response', () => {
    for (const json of made.slice(7)) expect(plainBlockDelta(json), JSON.stringify(json)).toBeUndefined();
    expect(translate(delta(0, { type: 'text_delta', text: 5 }))).toEqual({ error: 'bad_response' });
    expect(translate(delta(-1, { type: 'text_delta', text: 'Hi' }))).toEqual({ error: 'bad_response' });
    expect(translate(delta(0, null))).toEqual({ error: 'bad_response' });
  });
});
