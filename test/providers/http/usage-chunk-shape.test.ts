import { describe, expect, it } from 'vitest';
import { AnthropicStreamTranslator } from '../../../src/providers/anthropic/stream-translator.js';
import { GeminiStreamTranslator } from '../../../src/providers/gemini/stream-translator.js';
import { ServerSentEventReader } from '../../../src/providers/http/read-server-sent-events.js';
import type { StreamTranslator } from '../../../src/providers/http/stream-translator.js';
import { OpenAIStreamTranslator } from '../../../src/providers/openai/stream-translator.js';
import type { ChatCompletionChunk } from '../../../src/contract/openai-shapes.js';
import { haveSameMap } from '../../helpers/v8-shapes.js';
import { fixture } from '../helpers/replay.js';

function lastChunk(events: ReturnType<ServerSentEventReader['feed']>, translator: StreamTranslator): ChatCompletionChunk {
  const chunks: ChatCompletionChunk[] = [];
  for (const event of events) {
    if (translator.done) break;
    chunks.push(...translator.push(event));
  }
  chunks.push(...translator.end());
  return chunks[chunks.length - 1]!;
}

// `{ ...chunk, usage }` made a new hidden class for every stream once V8's
// inline caches warmed up, which kept each stream alive through a young
// collection (bench README, "Finding out where memory goes").
describe.each([
  ['openai', 'openai-tools.chunks.txt', () => new OpenAIStreamTranslator('openai', 'gpt-4o', 1700000000, 'fallback')],
  ['anthropic', 'anthropic-text.chunks.txt', () => new AnthropicStreamTranslator({ upstreamModel: 'claude', now: 1700000000, fallbackId: 'msg_fallback' })],
  ['gemini', 'gemini-text-thoughts.chunks.txt', () => new GeminiStreamTranslator({ upstreamModel: 'gemini-2.5-flash', now: 1700000000, fallbackId: 'f', newToolCallId: () => 'call_1' })],
])('%s usage chunk', (_provider, file, translator) => {
  it('has one hidden class for every stream', () => {
    const events = new ServerSentEventReader('test').feed(fixture(file));
    const first = lastChunk(events, translator());
    expect(first.usage).toBeDefined();
    let changed = 0;
    let previous = first;
    for (let i = 0; i < 300; i++) {
      const next = lastChunk(events, translator());
      if (!haveSameMap(previous, next)) changed++;
      previous = next;
    }
    expect(changed).toBe(0);
  });
});
