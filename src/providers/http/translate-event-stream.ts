import type { ChatCompletionChunk } from '../../contract/openai-shapes.js';
import { ProviderError } from '../../contract/provider.js';
import { ServerSentEventReader } from './read-server-sent-events.js';
import type { StreamTranslator } from './stream-translator.js';
import { transportError } from './transport-error.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';

/**
 * Reads an upstream SSE body through a translator. Every failure surfaces as
 * a ProviderError; a failure before the first chunk is always retryable, since
 * nothing reached the client yet and another key may do better. The socket is
 * released however the iteration ends, including the consumer stopping early.
 */
export async function* translateEventStream(
  body: AsyncIterable<Uint8Array | string> & { destroy(): unknown },
  translator: StreamTranslator,
  provider: string,
  signal: CancelSignal,
): AsyncGenerator<ChatCompletionChunk[]> {
  let yielded = 0;
  let ended = false;
  const reader = new ServerSentEventReader(provider);
  // A frame that fails to translate fails the stream after the chunks before it, as if they came one by one.
  let failure: unknown;
  const translate = (events: ReturnType<ServerSentEventReader['feed']>): ChatCompletionChunk[] => {
    const batch: ChatCompletionChunk[] = [];
    try {
      for (const event of events) {
        // After the terminal event the body ends right away; reading it to its
        // end spares destroying the socket (which builds an AbortError per stream).
        if (translator.done) break;
        for (const chunk of translator.push(event)) batch.push(chunk);
      }
    } catch (err) {
      failure = err;
    }
    return batch;
  };
  // Chunks already parsed are not handed out once the caller gave up.
  const checkAborted = () => {
    if (signal.aborted) throw transportError(new Error('aborted'), provider, signal);
  };
  try {
    for await (const piece of body) {
      const batch = translate(reader.feed(piece));
      if (batch.length > 0) {
        checkAborted();
        yielded += batch.length;
        yield batch;
      }
      if (failure !== undefined) throw failure;
    }
    const tail = translate(reader.end());
    if (tail.length > 0) {
      checkAborted();
      yielded += tail.length;
      yield tail;
    }
    if (failure !== undefined) throw failure;
    ended = true;
    checkAborted();
    const owed = translator.end();
    if (owed.length > 0) {
      yielded += owed.length;
      yield owed;
    }
  } catch (err) {
    const error = transportError(err, provider, signal);
    if (yielded === 0 && error.errorClass === 'bad_response') {
      throw new ProviderError(error.message, 'retryable', error.upstreamStatus, error.retryAfterMs);
    }
    throw error;
  } finally {
    if (!ended) body.destroy();
  }
}
