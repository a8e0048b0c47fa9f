import {
  type Attributes,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TextMapPropagator,
  type TraceState,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { formatMoney } from '../money.js';
import type { AttemptOutcome } from '../routing/attempt-record.js';
import type { RequestObserver, RequestSummary, SettledRequest } from './request-observer.js';
import type { SpanRecord } from './span-record.js';
import type { AttemptInfo, AttemptSpan, AttemptTracer, RequestTrace } from './tracing-seams.js';
import {
  GATEWAY,
  GEN_AI_OPERATION_NAME,
  GEN_AI_PROVIDER_NAME,
  GEN_AI_REQUEST_MODEL,
  GEN_AI_RESPONSE_FINISH_REASONS,
  GEN_AI_RESPONSE_MODEL,
  GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  GEN_AI_USAGE_INPUT_TOKENS,
  GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  genAiProviderName,
} from './tracing-attributes.js';

// Traces of requests, in the OpenTelemetry API's terms: the SDK (sampler,
// id generator, span processor, OTLP exporter, resource) is built outside
// the core (src/telemetry) and handed in. Nothing here runs when tracing is
// off: the gateway then has no Tracing at all.
//
// Spans are drawn from the request's own records, not through the SDK's
// Tracer: the gateway already holds every time and count a span needs, and
// a Tracer span is a heavy object (its attributes checked and copied three
// times, times kept as arrays) that lives until its batch is exported. Here
// a span is a plain record, made when it ends and handed to the SDK's batch
// span processor, which exports it as any other; the sampler, the ids and
// the reading of a client's traceparent are handed in (src/telemetry), and
// the traceparent an attempt sends upstream is written here from its ids.
//
// What is drawn, and when. The server span is opened by the HTTP door. An
// attempt span opens when the dispatcher calls an upstream, because its
// span id goes upstream in `traceparent`. Everything else is drawn after the
// fact, with explicit times: the admission span from the request's summary
// when it closes, the settlement span when its batch is written.
//
// All times are epoch milliseconds from Date.now(), the clock of the
// request's own records (receivedAt, attempts, the usage row), so children
// never drift out of their parents.

/** How long a request's trace waits for its summary and settlement before it is dropped. */
const FORGET_AFTER_MS = 10 * 60_000;

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

/** A request's trace from its server span until its settlement is drawn. */
class LiveTrace implements RequestTrace {
  /**
   * Makes the server span's HTTP attributes, until the span ends; none when
   * the request is not sampled. Called when the span ends, so no attribute
   * object lives through the request.
   */
  serverAttributes: (() => Attributes) | undefined;
  /** The request's project, once its summary says (for the server span, if it is still open). */
  projectId: string | undefined;
  status: SpanStatus = UNSET;
  /** The attempt whose answer the client got: it ends once the request's usage is known. */
  answered: AttemptTrace | undefined;
  summarized = false;
  settlementDue = false;

  constructor(
    readonly traceId: string,
    /** The server span's id: the parent of every other span of the request. */
    readonly spanId: string,
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
    /** The client's span, when it sent a traceparent. */
    readonly parentSpanId: string | undefined,
    readonly name: string,
    readonly requestId: string,
    readonly startedAt: number,
    serverAttributes: (() => Attributes) | undefined,
  ) {
    this.serverAttributes = serverAttributes;
  }

  get sampled(): boolean {
    return (this.traceFlags & TraceFlags.SAMPLED) !== 0;
  }

  /** A finished child of the server span. */
  child(spanId: string, name: string, kind: SpanKind, startMs: number, endMs: number, attributes: Attributes, status: SpanStatus = UNSET): SpanRecord {
    return { traceId: this.traceId, spanId, parentSpanId: this.spanId, parentIsRemote: false, traceFlags: this.traceFlags, traceState: this.traceState, name, kind, startMs, endMs, attributes, status };
  }
}

/**
 * One upstream attempt's CLIENT span and the headers that go upstream with
 * it. What the span learns while the attempt runs is kept in fields; its
 * attributes are made once, when it ends (a stream can run for minutes).
 */
export class AttemptTrace implements AttemptSpan {
  #endAt: number | undefined;
  #ended = false;
  /** The upstream's own model. */
  #responseModel: string | undefined;
  #firstChunkAt: number | undefined;
  /** The finish reasons seen: one (the usual case) as itself, more as an array. */
  #finishReasons: string | string[] | undefined;
  #failure: { outcome: AttemptOutcome; upstreamStatus: number | undefined } | undefined;
  #status: SpanStatus = UNSET;

  constructor(
    private readonly tracing: Tracing,
    readonly request: LiveTrace,
    readonly spanId: string,
    /** What is attempted; undefined when the request is not sampled (nothing is drawn). */
    private readonly info: AttemptInfo | undefined,
    /** The transport's headers with traceparent (and tracestate) naming this attempt's span as the upstream's parent. */
    readonly headers: Readonly<Record<string, string>>,
    /** The request waits for its usage to end this span (else it ends when the answer is read). */
    private readonly owned: boolean,
    private readonly startedAt: number,
  ) {}

  /** The upstream's own model, from the answer or the first chunk (the first one seen stands). */
  response(model: string | undefined): void {
    if (this.info && this.#responseModel === undefined) this.#responseModel = model;
  }

  finishReason(reason: string | null | undefined): void {
    if (!reason || !this.info) return;
    const seen = this.#finishReasons;
    if (seen === undefined) this.#finishReasons = reason;
    else if (typeof seen === 'string') {
      if (seen !== reason) this.#finishReasons = [seen, reason];
    } else if (!seen.includes(reason)) seen.push(reason);
  }

  firstChunk(at: number): void {
    this.#firstChunkAt = at;
  }

  /**
   * The upstream's answer was read (JSON) or its stream ended cleanly. The
   * span stays open until the request's usage is known (the usage row's
   * own counts go on it), unless no request waits for it.
   */
  succeeded(at = Date.now()): void {
    if (!this.info || this.#ended) return;
    this.#endAt = at;
    if (this.owned) this.request.answered = this;
    else this.end();
  }

  /** The attempt failed (before or, for a stream, after its first chunk). */
  failed(outcome: AttemptOutcome, upstreamStatus: number | undefined, message: string): void {
    if (!this.info || this.#ended) return;
    if (this.request.answered === this) this.request.answered = undefined;
    this.#failure = { outcome, upstreamStatus };
    this.#status = { code: SpanStatusCode.ERROR, message };
    this.#endAt = Date.now();
    this.end();
  }

  /** Ends the span with the request's usage: the counts the usage row holds. */
  end(usage?: RequestSummary['usage']): void {
    const { info } = this;
    if (!info || this.#ended) return;
    this.#ended = true;
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: info.operation,
      [GEN_AI_PROVIDER_NAME]: genAiProviderName(info.provider),
      [GEN_AI_REQUEST_MODEL]: info.upstreamModel,
      [GATEWAY.attempt]: info.attempt,
    };
    const host = this.tracing.host(info.baseUrl);
    if (host) {
      attributes[ATTR_SERVER_ADDRESS] = host.address;
      attributes[ATTR_SERVER_PORT] = host.port;
    }
    if (info.upstreamKeyId) attributes[GATEWAY.upstreamKeyId] = info.upstreamKeyId;
    if (this.#responseModel) attributes[GEN_AI_RESPONSE_MODEL] = this.#responseModel;
    if (this.#firstChunkAt !== undefined) attributes[GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (this.#firstChunkAt - this.startedAt) / 1000;
    const reasons = this.#finishReasons;
    if (reasons !== undefined) attributes[GEN_AI_RESPONSE_FINISH_REASONS] = typeof reasons === 'string' ? [reasons] : reasons;
    const failure = this.#failure;
    if (failure) {
      const { outcome, upstreamStatus } = failure;
      if (upstreamStatus !== undefined) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = upstreamStatus;
      // The HTTP client convention: the status code when there is one, else what went wrong.
      attributes[ATTR_ERROR_TYPE] = upstreamStatus !== undefined && upstreamStatus >= 400 ? String(upstreamStatus) : outcome;
      attributes[GATEWAY.outcome] = outcome;
    }
    if (usage) setUsage(attributes, usage);
    const name = `${info.operation} ${info.upstreamModel}`;
    this.tracing.export(this.request.child(this.spanId, name, SpanKind.CLIENT, this.startedAt, this.#endAt ?? Date.now(), attributes, this.#status));
  }
}

/**
 * The transport's headers and the W3C trace context naming an attempt's
 * span as the upstream's parent: what the propagator's inject writes,
 * without the context it reads it from (a new context and span wrapper for
 * every attempt), in one object with the rest.
 */
function traceHeaders(base: Readonly<Record<string, string>> | undefined, traceId: string, spanId: string, traceFlags: number, traceState: TraceState | undefined): Record<string, string> {
  // traceparent before the spread: keys a literal adds after a leading spread give each object a hidden class of its own (docs/design.md).
  const headers: Record<string, string> = { traceparent: `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`, ...base };
  const tracestate = traceState?.serialize();
  if (tracestate) headers.tracestate = tracestate;
  return headers;
}

function setUsage(attributes: Attributes, usage: RequestSummary['usage']): void {
  attributes[GEN_AI_USAGE_INPUT_TOKENS] = usage.promptTokens;
  attributes[GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completionTokens;
  if (usage.cachedTokens > 0) attributes[GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedTokens;
  const cacheWrites = (usage.cacheWriteTokens ?? 0) + (usage.cacheWrite1hTokens ?? 0);
  if (cacheWrites > 0) attributes[GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = cacheWrites;
  if (usage.reasoningTokens > 0) attributes[GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
}

/** The sampler's answer for a new request's trace. */
export interface SamplingDecision {
  sampled: boolean;
  traceState?: TraceState | undefined;
}

export interface TracingOptions {
  /** The configured sampler's decision for a request's server span, given the client's span (if any) and the trace id. */
  sample(parent: SpanContext | undefined, traceId: string, name: string): SamplingDecision;
  newTraceId(): string;
  newSpanId(): string;
  /** W3C trace context: what a client's traceparent (and tracestate) mean. */
  propagator: TextMapPropagator;
  /** Takes a finished span of a sampled trace, to be batched and exported. */
  export(span: SpanRecord): void;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

type Carrier = Record<string, string | string[] | undefined>;

interface Host {
  address: string;
  port: number;
}

/** The gateway's traces: server, admission, attempt and settlement spans. */
export class Tracing implements RequestObserver, AttemptTracer {
  readonly #options: TracingOptions;
  readonly #propagator: TextMapPropagator;
  /** Sampled requests still waiting for their summary or settlement, oldest first. */
  readonly #live = new Map<string, LiveTrace>();
  readonly #hosts = new Map<string, Host | null>();

  constructor(options: TracingOptions) {
    this.#options = options;
    this.#propagator = options.propagator;
  }

  /** Hands a finished span to the exporter. */
  export(span: SpanRecord): void {
    this.#options.export(span);
  }

  /**
   * Opens a request's SERVER span, the child of the client's traceparent
   * when it sent a valid one. `attributes` makes the span's HTTP
   * attributes, and is called when the span ends, if the sampler kept the
   * request.
   */
  startRequest(requestId: string, headers: Carrier, name: string, attributes: () => Attributes): RequestTrace {
    const parent = headers.traceparent === undefined ? undefined : trace.getSpanContext(this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
    const traceId = parent ? parent.traceId : this.#options.newTraceId();
    const decision = this.#options.sample(parent, traceId, name);
    const live = new LiveTrace(
      traceId,
      this.#options.newSpanId(),
      decision.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      decision.traceState ?? parent?.traceState,
      parent?.spanId,
      name,
      requestId,
      Date.now(),
      decision.sampled ? attributes : undefined,
    );
    // A trace the sampler dropped still has ids to pass upstream, but nothing is drawn.
    if (decision.sampled) this.#live.set(requestId, live);
    return live;
  }

  /** Ends the server span when the response is over (or the client went away). */
  endRequest(requestTrace: RequestTrace, statusCode: number, aborted: boolean): void {
    if (!(requestTrace instanceof LiveTrace) || !requestTrace.serverAttributes) return;
    const attributes = requestTrace.serverAttributes();
    requestTrace.serverAttributes = undefined;
    attributes[GATEWAY.requestId] = requestTrace.requestId;
    // The rest of what the request was (its key, door, outcome, cost) is the usage row's, found by the trace id.
    if (requestTrace.projectId) attributes[GATEWAY.projectId] = requestTrace.projectId;
    attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = statusCode;
    // A server span is an error on 5xx only: a 4xx is the client's.
    if (statusCode >= 500) {
      attributes[ATTR_ERROR_TYPE] = String(statusCode);
      requestTrace.status = { code: SpanStatusCode.ERROR };
    } else if (aborted) {
      attributes[ATTR_ERROR_TYPE] = 'client_closed';
    }
    const { traceId, spanId, parentSpanId, traceFlags, traceState, name, startedAt, status } = requestTrace;
    this.#options.export({
      traceId,
      spanId,
      parentSpanId,
      parentIsRemote: parentSpanId !== undefined,
      traceFlags,
      traceState,
      name,
      kind: SpanKind.SERVER,
      startMs: startedAt,
      endMs: Date.now(),
      attributes,
      status,
    });
    // A request that was never metered (no summary, no attempt) has nothing more to draw.
    if ((requestTrace.summarized && !requestTrace.settlementDue) || (!requestTrace.summarized && !requestTrace.answered)) {
      this.#live.delete(requestTrace.requestId);
    }
  }

  /**
   * Opens an upstream attempt's CLIENT span, whose headers are `headers`
   * (the transport's) with its traceparent; undefined when the request is
   * not traced here.
   */
  startAttempt(requestTrace: RequestTrace | undefined, info: AttemptInfo, headers?: Readonly<Record<string, string>>): AttemptTrace | undefined {
    if (!(requestTrace instanceof LiveTrace)) return undefined;
    const spanId = this.#options.newSpanId();
    const upstreamHeaders = traceHeaders(headers, requestTrace.traceId, spanId, requestTrace.traceFlags, requestTrace.traceState);
    return new AttemptTrace(this, requestTrace, spanId, requestTrace.sampled ? info : undefined, upstreamHeaders, this.#live.has(requestTrace.requestId), Date.now());
  }

  /** server.address and server.port of an upstream base URL, parsed once per URL (null: the test-mode mock's, no URL). */
  host(baseUrl: string): Host | null {
    let host = this.#hosts.get(baseUrl);
    if (host === undefined) {
      try {
        const url = new URL(baseUrl);
        host = { address: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
      } catch {
        host = null;
      }
      if (this.#hosts.size < 1024) this.#hosts.set(baseUrl, host);
    }
    return host;
  }

  /** The request closed: its admission span, its answer's usage, the request's outcome on the server span. */
  requestClosed(summary: RequestSummary): void {
    const live = this.#live.get(summary.requestId);
    if (!live) return;
    live.summarized = true;
    live.settlementDue = summary.status !== 'rejected';
    live.projectId = summary.projectId;
    const startMs = Math.min(summary.receivedAt ?? live.startedAt, summary.startedAt);
    const spanId = this.#options.newSpanId();
    this.#options.export(
      summary.status === 'rejected'
        ? live.child(spanId, 'admission', SpanKind.INTERNAL, startMs, summary.endedAt, { [ATTR_ERROR_TYPE]: summary.errorCode ?? String(summary.httpStatus) }, { code: SpanStatusCode.ERROR })
        : live.child(spanId, 'admission', SpanKind.INTERNAL, startMs, summary.startedAt, {
            [GATEWAY.reservedCost]: formatMoney(summary.reservedCost),
            [GATEWAY.reservationHolder]: summary.reservation ?? 'unknown',
          }),
    );
    live.answered?.end(summary.usage);
    live.answered = undefined;
    if (!live.serverAttributes && !live.settlementDue) this.#live.delete(summary.requestId);
  }

  /** A settlement batch was written: one `settlement` span under each of its requests, with the batch's times. */
  requestsSettled(requests: readonly SettledRequest[], startedAt: number, endedAt: number): void {
    for (const settled of requests) {
      const live = this.#live.get(settled.requestId);
      if (!live) continue;
      this.#live.delete(settled.requestId);
      const attributes = { [GATEWAY.batchSize]: requests.length, [GATEWAY.cost]: formatMoney(settled.charged) };
      this.#options.export(live.child(this.#options.newSpanId(), 'settlement', SpanKind.INTERNAL, startedAt, endedAt, attributes));
    }
    this.#forgetOld(endedAt);
  }

  /** Drops traces whose summary or settlement never came (left to recovery), oldest first. */
  #forgetOld(now: number): void {
    for (const [requestId, live] of this.#live) {
      if (live.startedAt > now - FORGET_AFTER_MS) break;
      live.answered?.end();
      this.#live.delete(requestId);
    }
  }

  /** Exports every span ended so far (tests, shutdown). */
  flush(): Promise<void> {
    return this.#options.flush();
  }

  shutdown(): Promise<void> {
    this.#live.clear();
    return this.#options.shutdown();
  }
}
