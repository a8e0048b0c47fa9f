import type { AttemptOutcome } from '../routing/attempt-record.js';

// What the request context and the dispatcher know of tracing: interfaces
// only, so neither depends on the spans' implementation (tracing.ts).

/** The trace a request runs under: set by the door, read by the dispatcher and the usage row. */
export interface RequestTrace {
  readonly traceId: string;
  /** The sampler kept it: its spans are drawn and exported (absent with tracing off). */
  readonly sampled?: boolean;
  /** With tracing off: the client's traceparent (and tracestate), passed on upstream unchanged. */
  readonly passOn?: Readonly<Record<string, string>>;
}

/** What an upstream attempt is, for its span. */
export interface AttemptInfo {
  operation: 'chat' | 'embeddings';
  provider: string;
  modelId: string;
  upstreamModel: string;
  baseUrl: string;
  /** null for the test-mode mock. */
  upstreamKeyId: string | null;
  attempt: number;
}

/** One upstream attempt's span, as the dispatcher drives it. */
export interface AttemptSpan {
  /** The transport's headers with traceparent (and tracestate) naming this attempt's span as the upstream's parent. */
  readonly headers: Readonly<Record<string, string>>;
  /** The upstream's own model, from the answer or the first chunk. */
  response(model: string | undefined): void;
  finishReason(reason: string | null | undefined): void;
  /** Epoch ms when a stream's first chunk arrived. */
  firstChunk(at: number): void;
  /** The answer was read (JSON) or the stream ended cleanly. */
  succeeded(): void;
  failed(outcome: AttemptOutcome, upstreamStatus: number | undefined, message: string): void;
}

export interface AttemptTracer {
  /** The attempt's span, its headers `headers` and its traceparent; undefined when the request is not traced here. */
  startAttempt(requestTrace: RequestTrace, info: AttemptInfo, headers?: Readonly<Record<string, string>>): AttemptSpan | undefined;
}
