// The Messages door's streams: Anthropic's event grammar on the wire (event
// names, order, indices, one ping, usage in message_start and
// message_delta), and what the SDK assembles from it, for text, tool use,
// thinking and cut-short answers from each upstream wire.
import type Anthropic from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { expectGrammar, useMessagesGateway, usageRow, WIRES, weatherTool } from './messages-support.js';

const env = useMessagesGateway();

interface WireEvent {
  event: string | undefined;
  data: { type: string; [k: string]: unknown };
}

/** POSTs a streaming Messages body and reads every SSE event, its `event:` name and parsed data. */
async function rawStream(body: Record<string, unknown>): Promise<{ res: Response; events: WireEvent[] }> {
  const res = await fetch(`${env.gw().url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': env.liveKey(), 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const events: WireEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: JSON.parse(e.data) }) });
  const decoder = new TextDecoder();
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(part, { stream: true }));
  return { res, events };
}

const hello = (model: string) => ({ model, max_tokens: 300, messages: [{ role: 'user' as const, content: 'Hello there' }] });

describe.each(WIRES)('Messages streams × %s upstream', (wire) => {
  it('every event is named for its type; one ping right after message_start; grammar in order', async () => {
    env.emulator(wire).setScript({ text: 'Checking the weather now.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }], usage: { input: 40, output: 12 }, chunks: 3 });
    const { res, events } = await rawStream({ ...hello(env.model(wire)), tools: [weatherTool] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    for (const e of events) expect(e.event).toBe(e.data.type);
    expect(events.filter((e) => e.event === 'ping').map((e) => events.indexOf(e))).toEqual([1]);
    expectGrammar(events.filter((e) => e.event !== 'ping').map((e) => e.data) as unknown as Anthropic.MessageStreamEvent[]);

    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => (e.data.content_block as { type: string }).type);
    expect(starts).toEqual(['text', 'tool_use']);
    const start = events[0]!.data as unknown as Anthropic.RawMessageStartEvent;
    expect(start.message).toMatchObject({ type: 'message', role: 'assistant', model: env.model(wire), content: [], stop_reason: null });
    expect(start.message.id).toMatch(/^msg_/);
    const delta = events.at(-2)!.data as unknown as Anthropic.RawMessageDeltaEvent;
    expect(delta).toMatchObject({ delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 40, output_tokens: 12 } });
    const row = await usageRow(env.gw(), res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ endpoint: 'messages', stream: true, status: 'ok', promptTokens: 40, completionTokens: 12 });
  });

  it('the SDK assembles text and a tool call from the stream, events in grammar order', async () => {
    env.emulator(wire).setScript({ text: 'On it.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Kyiv' } }], chunks: 4 });
    const stream = env.client().messages.stream({ ...hello(env.model(wire)), tools: [weatherTool] });
    const seen: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (e) => seen.push(e));
    const final = await stream.finalMessage();
    expectGrammar(seen);
    expect(final).toMatchObject({
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'On it.' },
        { type: 'tool_use', name: 'get_weather', input: { city: 'Kyiv' } },
      ],
    });
  });

  it('thinking streams as a thinking block first, signed only by Anthropic', async () => {
    env.emulator(wire).setScript({ reasoning: 'Think it through.', text: 'Done.', chunks: 3 });
    const stream = env.client().messages.stream({ ...hello(env.model(wire)), max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 1024 } });
    const seen: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (e) => seen.push(e));
    const final = await stream.finalMessage();
    expectGrammar(seen);
    expect(final.content).toMatchObject([
      { type: 'thinking', thinking: 'Think it through.' },
      { type: 'text', text: 'Done.' },
    ]);
    const signatures = seen.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta');
    if (wire === 'anthropic') {
      expect(signatures).toHaveLength(1);
      expect((final.content[0] as Anthropic.ThinkingBlock).signature.length).toBeGreaterThan(0);
    } else {
      expect(signatures).toHaveLength(0);
    }
  });

  it('an answer cut at max_tokens ends with stop_reason max_tokens, streamed and not', async () => {
    env.emulator(wire).setScript({ text: 'cut short', finishReason: 'length' });
    const final = await env.client().messages.stream({ ...hello(env.model(wire)), max_tokens: 3 }).finalMessage();
    expect(final.stop_reason).toBe('max_tokens');
    const created = await env.client().messages.create({ ...hello(env.model(wire)), max_tokens: 3 });
    expect(created.stop_reason).toBe('max_tokens');
  });
});

describe('message_start before the upstream reports usage', () => {
  it("shows the gateway's prompt count; message_delta brings the upstream's", async () => {
    env.emulator('openai').setScript({ text: 'Hi.', usage: { input: 999, output: 2 } });
    const { events } = await rawStream(hello(env.model('openai')));
    const start = events[0]!.data as unknown as Anthropic.RawMessageStartEvent;
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    expect(start.message.usage.input_tokens).toBeLessThan(999);
    expect((events.at(-2)!.data as unknown as Anthropic.RawMessageDeltaEvent).usage).toMatchObject({ input_tokens: 999, output_tokens: 2 });
  });
});
