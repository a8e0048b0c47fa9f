import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { translateEventStream } from '../../../src/providers/http/translate-event-stream.js';
import type { StreamTranslator } from '../../../src/providers/http/stream-translator.js';
import type { ChatCompletionChunk } from '../../../src/contract/openai-shapes.js';

export const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

/**
 * A recorded SSE body as a socket would deliver it: bytes in small pieces
 * that split lines, events and multi-byte characters at arbitrary places.
 */
export function bodyOf(text: string, pieceSize = 7): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
  return Readable.from(pieces);
}

export async function replay(
  text: string,
  translator: StreamTranslator,
  provider = 'test',
): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
  const chunks: ChatCompletionChunk[] = [];
  try {
    for await (const batch of translateEventStream(bodyOf(text), translator, provider, new AbortController().signal)) {
      chunks.push(...batch);
    }
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

/** The text, reasoning and tool calls a client would assemble from the chunks. */
export function assemble(chunks: ChatCompletionChunk[]) {
  let content = '';
  let reasoning = '';
  const tools: Array<{ id?: string; name?: string; arguments: string }> = [];
  let finish: string | null = null;
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? '';
      reasoning += choice.delta.reasoning_content ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        const slot = (tools[call.index] ??= { arguments: '' });
        if (call.id) slot.id = call.id;
        if (call.function?.name) slot.name = call.function.name;
        slot.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { content, reasoning, tools, finish };
}
