import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProviderError } from '../provider.js';

// A single frame bigger than this is not something any provider sends.
const MAX_FRAME_CHARS = 16 * 1024 * 1024;

/**
 * The events of a `text/event-stream` body, parsed by eventsource-parser.
 * Bytes are decoded as a stream so a multi-byte character split across
 * socket reads survives. Errors from the body (socket cut, abort) propagate
 * unchanged; an oversized frame is a bad_response.
 */
export async function* readServerSentEvents(
  body: AsyncIterable<Uint8Array | string>,
  provider: string,
): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  let overflow = false;
  const parser = createParser({
    maxBufferSize: MAX_FRAME_CHARS,
    onEvent: (event) => pending.push(event),
    onError: (error) => {
      // Unknown fields and bad `retry` values are ignored, as the SSE spec says.
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
  });
  const decoder = new TextDecoder();
  const feed = (text: string) => {
    if (text) parser.feed(text);
    if (overflow) throw new ProviderError(`${provider} sent an oversized stream frame`, 'bad_response', 200);
  };

  for await (const piece of body) {
    feed(typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  // A last event without its closing blank line still counts: some servers
  // end that way. Extra blank lines after a complete event dispatch nothing.
  feed(`${decoder.decode()}\n\n`);
  while (pending.length > 0) yield pending.shift()!;
}
