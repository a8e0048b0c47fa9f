import { describe, expect, it } from 'vitest';
import { readServerSentEvents } from '../../../src/providers/http/read-server-sent-events.js';
import { bodyOf } from '../helpers/replay.js';

async function collect(text: string, pieceSize: number) {
  const events = [];
  for await (const event of readServerSentEvents(bodyOf(text, pieceSize), 'test')) events.push(event);
  return events;
}

describe('readServerSentEvents', () => {
  const text = 'event: a\ndata: {"x":"héllo ✓"}\n\n: comment\n\ndata: line1\ndata: line2\n\r\ndata: [DONE]\n\n';

  it.each([1, 2, 3, 5, 64])('gives the same events whatever the byte split (%i)', async (size) => {
    const events = await collect(text, size);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '{"x":"héllo ✓"}'],
      [undefined, 'line1\nline2'],
      [undefined, '[DONE]'],
    ]);
  });

  it('keeps a last event that lacks its blank line', async () => {
    const events = await collect('data: {"a":1}\n\ndata: {"b":2}', 4);
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}']);
  });
});
