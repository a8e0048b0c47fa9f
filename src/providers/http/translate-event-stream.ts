import type { ChatCompletionChunk } from '../openai-shapes.js';
import { ProviderError } from '../provider.js';
import { ServerSentEventReader } from './read-server-sent-events.js';
import type { StreamTranslator } from './stream-translator.js';
import { transportError } from './transport-error.js';

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
  signal: AbortSignal,
): AsyncGenerator<ChatCompletionChunk> {
  let yielded = 0;
  let ended = false;
  const reader = new ServerSentEventReader(provider);
  const translate = function* (events: ReturnType<ServerSentEventReader['feed']>) {
    for (const event of events) {
      // After the terminal event the body ends right away; reading it to its
      // end spares destroying the socket (which builds an AbortError per stream).
      if (translator.done) return;
      yield* translator.push(event);
    }
  };
  try {
    for await (const piece of body) {
      for (const chunk of translate(reader.feed(piece))) {
        // Chunks already parsed are not handed out once the caller gave up.
        if (signal.aborted) throw transportError(new Error('aborted'), provider, signal);
        yielded++;
        yield chunk;
      }
    }
    for (const chunk of translate(reader.end())) {
      if (signal.aborted) throw transportError(new Error('aborted'), provider, signal);
      yielded++;
      yield chunk;
    }
    ended = true;
    if (signal.aborted) throw transportError(new Error('aborted'), provider, signal);
    for (const chunk of translator.end()) {
      yielded++;
      yield chunk;
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
