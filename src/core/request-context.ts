import type { AuthenticatedKey } from './keys/key-store.js';
import type { PayloadCapture } from './explorer/payload-capture.js';
import type { AttemptRecord } from './routing/attempt-record.js';
import type { RequestTrace } from './telemetry/tracing-seams.js';

/**
 * The client's side of one request. Not an AbortSignal: building one per
 * request showed in the profile, and the request's deadline already owns
 * the one signal that upstream calls listen to.
 */
export interface ClientConnection {
  /** True once the client went away before the response was complete. */
  readonly gone: boolean;
  /** Calls `listener` when the client goes away (at once if it has); returns the function that stops listening. */
  onGone(listener: () => void): () => void;
}

/**
 * A connection that goes away once and tells whoever listens: the HTTP
 * door's (on an early close) and a background response's (on cancel).
 */
export class DepartingClient implements ClientConnection {
  #gone = false;
  #listeners: Array<() => void> = [];

  get gone(): boolean {
    return this.#gone;
  }

  onGone(listener: () => void): () => void {
    if (this.#gone) {
      listener();
      return () => {};
    }
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Marks the client gone, once, and tells the listeners. */
  depart(): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const listener of this.#listeners) listener();
    this.#listeners = [];
  }
}

/** A connection that never goes away (work not tied to a client). */
export const detachedClient: ClientConnection = { gone: false, onGone: () => () => {} };

/** What a front door knows about one request when it hands it to the core. */
export interface RequestContext {
  requestId: string;
  key: AuthenticatedKey;
  client: ClientConnection;
  /** Lower-cased request headers an adapter may honour (test-mode fault triggers). */
  hints?: Record<string, string | undefined>;
  /** Filled by the dispatcher with each upstream attempt, when the door asks for them. */
  attempts?: AttemptRecord[];
  /** Epoch ms when the door received the request (admission time is measured from it). */
  receivedAt?: number;
  /** The W3C trace id the request runs under, when tracing is on or the client sent a traceparent. */
  traceId?: string;
  /** The trace the door started or received: the dispatcher draws attempts under it and sends it upstream. */
  trace?: RequestTrace;
  /** Set by the core after admission when the project captures payloads (core/explorer/payload-capture.ts). */
  capture?: PayloadCapture;
}
