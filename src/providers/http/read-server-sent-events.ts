import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { ProviderError } from '../../contract/provider.js';

// A single frame bigger than this is not something any provider sends.
const MAX_FRAME_CHARS = 16 * 1024 * 1024;

/**
 * Turns the pieces of a `text/event-stream` body into events with
 * eventsource-parser, synchronously: one network read in, every event it
 * completed out, so a stream pays one async step per read, not per event.
 * Bytes are decoded as a stream so a multi-byte character split across reads
 * survives; an oversized frame is a bad_response.
 */
export class ServerSentEventReader {
  readonly #pending: EventSourceMessage[] = [];
  readonly #parser: EventSourceParser;
  readonly #decoder = new TextDecoder();
  #overflow = false;

  constructor(private readonly provider: string) {
    this.#parser = createParser({
      maxBufferSize: MAX_FRAME_CHARS,
      onEvent: (event) => this.#pending.push(event),
      onError: (error) => {
        // Unknown fields and bad `retry` values are ignored, as the SSE spec says.
        if (error.type === 'max-buffer-size-exceeded') this.#overflow = true;
      },
    });
  }

  /** The events completed by this piece of the body. */
  feed(piece: Uint8Array | string): EventSourceMessage[] {
    return this.#take(typeof piece === 'string' ? piece : this.#decoder.decode(piece, { stream: true }));
  }

  /**
   * The events left when the body ends: a last event without its closing
   * blank line still counts (some servers end that way).
   */
  end(): EventSourceMessage[] {
    return this.#take(`${this.#decoder.decode()}\n\n`);
  }

  #take(text: string): EventSourceMessage[] {
    if (text) this.#parser.feed(text);
    if (this.#overflow) throw new ProviderError(`${this.provider} sent an oversized stream frame`, 'bad_response', 200);
    return this.#pending.splice(0);
  }
}

/** The events of a body one by one (errors from the body propagate unchanged). */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array | string>, provider: string): AsyncGenerator<EventSourceMessage> {
  const reader = new ServerSentEventReader(provider);
  for await (const piece of body) yield* reader.feed(piece);
  yield* reader.end();
}
