import type { EventSourceMessage } from 'eventsource-parser';
import type { ChatCompletionChunk } from '../openai-shapes.js';

/**
 * Turns one provider's SSE events into OpenAI chunks. Implementations are
 * plain stateful objects with no I/O, so recorded event sequences test them.
 */
export interface StreamTranslator {
  /** The chunks one event produces; throws ProviderError for an upstream error event or a malformed frame. */
  push(event: EventSourceMessage): ChatCompletionChunk[];
  /** True once the upstream said it is done (OpenAI `[DONE]`): stop reading. */
  readonly done: boolean;
  /** The chunks owed at end of stream (the usage chunk); throws when the upstream never finished. */
  end(): ChatCompletionChunk[];
}
