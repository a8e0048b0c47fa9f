// The whole chunk sequence of a stream, as the official openai client sees
// it, for every provider: a role chunk first, the content (or tool-call)
// chunks, exactly one chunk with the finish reason, the usage chunk last,
// and on the wire `data: [DONE]` after it. A translator that drops the
// finish chunk, the usage, or the end of the stream fails here.
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type Script, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { readSse } from '../helpers/read-sse.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

type Chunk = OpenAI.ChatCompletionChunk;

let gw: TestGateway;
const emulators: Record<string, Emulator> = {};
let client: OpenAI;

const PROVIDERS = ['openai', 'deepseek', 'anthropic', 'gemini'] as const;
const TEXT = 'The quick brown fox jumps over the lazy dog.';
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

beforeAll(async () => {
  const [g, openai, anthropic, gemini] = await Promise.all([startGateway(), startOpenAIEmulator(), startAnthropicEmulator(), startGeminiEmulator()]);
  gw = g;
  Object.assign(emulators, { openai, deepseek: openai, anthropic, gemini });
  for (const provider of PROVIDERS) {
    await liveModel(gw, { id: `seq-${provider}`, provider, upstreamModel: `seq-${provider}-up`, keys: [{ baseUrl: emulators[provider]!.url }] });
  }
  const { secret } = await gw.project({ mode: 'live', balance: '10' });
  client = gw.client(secret);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([emulators.openai, emulators.anthropic, emulators.gemini].map((e) => e?.close()));
});
beforeEach(() => {
  for (const e of Object.values(emulators)) e.reset();
});

/** What each chunk is, in order: role, content, tool, finish, usage (a chunk may be only one of them). */
function shape(chunks: Chunk[]): string {
  return chunks
    .map((c) => {
      if (c.choices.length === 0) return c.usage ? 'usage' : 'empty';
      const [choice] = c.choices;
      if (choice!.finish_reason !== null) return 'finish';
      const d = choice!.delta;
      if (d.role === 'assistant') return 'role';
      if (d.tool_calls?.length) return 'tool';
      if (d.content) return 'content';
      return 'empty';
    })
    .join(' ');
}

const ask = (provider: string, extra: Partial<OpenAI.ChatCompletionCreateParamsStreaming> = {}): OpenAI.ChatCompletionCreateParamsStreaming => ({
  model: `seq-${provider}`,
  messages: [{ role: 'user', content: 'Tell me about foxes.' }],
  stream: true,
  stream_options: { include_usage: true },
  ...extra,
});

async function streamThroughClient(params: OpenAI.ChatCompletionCreateParamsStreaming): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of await client.chat.completions.create(params)) chunks.push(chunk);
  return chunks;
}

const cases: Array<{ name: string; script: Script; extra?: Partial<OpenAI.ChatCompletionCreateParamsStreaming>; finish: string; shape: RegExp }> = [
  { name: 'text that ends', script: { text: TEXT, usage: { input: 12, output: 11 } }, finish: 'stop', shape: /^role( content)+ finish usage$/ },
  { name: 'text cut at its cap', script: { text: TEXT, finishReason: 'length', usage: { input: 12, output: 11 } }, finish: 'length', shape: /^role( content)+ finish usage$/ },
  {
    name: 'a tool call',
    script: { toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }], usage: { input: 12, output: 11 } },
    extra: { tools: [weatherTool] },
    finish: 'tool_calls',
    shape: /^role( tool)+ finish usage$/,
  },
];

describe.each(PROVIDERS)('the chunk sequence of a %s stream', (provider) => {
  it.each(cases)('$name: role, deltas, one finish_reason, usage, then the end', async ({ script, extra, finish, shape: expected }) => {
    emulators[provider]!.setScript(script);
    const chunks = await streamThroughClient(ask(provider, extra));

    expect(shape(chunks)).toMatch(expected);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const finishes = chunks.filter((c) => c.choices.some((ch) => ch.finish_reason !== null));
    expect(finishes).toHaveLength(1);
    expect(finishes[0]!.choices[0]!.finish_reason).toBe(finish);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    if (script.text) expect(content).toBe(TEXT);
    if (script.toolCalls) {
      const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
      expect(JSON.parse(calls.map((t) => t.function?.arguments ?? '').join(''))).toEqual({ city: 'Lyon' });
    }
    // Usage once, on the last chunk, with no choices: what the upstream reported.
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23 } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === `seq-${provider}`)).toBe(true);
  });

  it('ends the raw stream with data: [DONE] right after the usage chunk', async () => {
    emulators[provider]!.setScript({ text: TEXT, usage: { input: 12, output: 11 } });
    const res = await client.chat.completions.create(ask(provider)).asResponse();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter((e) => e === '[DONE]')).toHaveLength(1);
    const last = JSON.parse(events.at(-2)!) as Chunk;
    expect(last).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 11 } });
    expect(shape(events.slice(0, -1).map((e) => JSON.parse(e) as Chunk))).toMatch(/^role( content)+ finish usage$/);
  });

  it('without include_usage: the same sequence with no usage chunk', async () => {
    emulators[provider]!.setScript({ text: TEXT, usage: { input: 12, output: 11 } });
    const chunks = await streamThroughClient(ask(provider, { stream_options: null }));
    expect(shape(chunks)).toMatch(/^role( content)+ finish$/);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });
});
