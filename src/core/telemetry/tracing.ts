import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { formatMoney } from '../money.js';
import type { AttemptOutcome } from '../routing/attempt-record.js';
import type { RequestObserver, RequestSummary, SettledRequest } from './request-observer.js';
import type { AttemptInfo, AttemptSpan, AttemptTracer, RequestTrace } from './tracing-seams.js';
import {
  GATEWAY,
  GEN_AI_OPERATION_NAME,
  GEN_AI_PROVIDER_NAME,
  GEN_AI_REQUEST_MAX_TOKENS,
  GEN_AI_REQUEST_MODEL,
  GEN_AI_REQUEST_STREAM,
  GEN_AI_REQUEST_TEMPERATURE,
  GEN_AI_REQUEST_TOP_P,
  GEN_AI_RESPONSE_FINISH_REASONS,
  GEN_AI_RESPONSE_ID,
  GEN_AI_RESPONSE_MODEL,
  GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  GEN_AI_USAGE_INPUT_TOKENS,
  GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  genAiProviderName,
} from './tracing-attributes.js';

// Traces of requests, with the OpenTelemetry API only: the SDK (exporter,
// sampler, resource) is built outside the core (src/telemetry) and handed in
// as a Tracer. Nothing here runs when tracing is off: the gateway then has
// no Tracing at all.
//
// What is drawn, and when. The server span is opened by the HTTP door. An
// attempt span opens when the dispatcher calls an upstream, because its
// span id goes upstream in `traceparent`. Everything else is drawn after the
// fact, with explicit times, off the request's path: the admission span from
// the request's summary when it closes, the settlement span when its batch
// is written. No context manager is involved: parents are passed by hand.
//
// All times are epoch milliseconds from Date.now(), the clock of the
// request's own records (receivedAt, attempts, the usage row), so children
// never drift out of their parents.

/** How long a request's trace waits for its summary and settlement before it is dropped. */
const FORGET_AFTER_MS = 10 * 60_000;

/** A traced request from its server span until its settlement is drawn. */
class LiveTrace implements RequestTrace {
  readonly traceId: string;
  /** The server span as the parent of every other span of the request. */
  readonly context: Context;
  /** Until the server span ends. */
  span: Span | undefined;
  /** The attempt whose answer the client got: it ends once the request's usage is known. */
  answered: AttemptTrace | undefined;
  summarized = false;
  settlementDue = false;

  constructor(
    span: Span,
    readonly requestId: string,
    readonly startedAt: number,
  ) {
    this.span = span;
    this.traceId = span.spanContext().traceId;
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }
}

/** One upstream attempt's CLIENT span and the trace headers that go upstream with it. */
export class AttemptTrace implements AttemptSpan {
  #endAt: number | undefined;
  #ended = false;
  #finishReasons: string[] | undefined;
  #responseSeen = false;

  constructor(
    readonly span: Span,
    /** traceparent (and tracestate) naming this attempt's span as the upstream's parent. */
    readonly headers: Readonly<Record<string, string>>,
    private readonly owner: LiveTrace | undefined,
    private readonly startedAt: number,
  ) {}

  /** The upstream's own model and response id, from the answer or the first chunk. */
  response(model: string | undefined, id: string | undefined): void {
    if (this.#responseSeen) return;
    this.#responseSeen = true;
    if (model) this.span.setAttribute(GEN_AI_RESPONSE_MODEL, model);
    if (id) this.span.setAttribute(GEN_AI_RESPONSE_ID, id);
  }

  finishReason(reason: string | null | undefined): void {
    if (!reason) return;
    this.#finishReasons ??= [];
    if (!this.#finishReasons.includes(reason)) this.#finishReasons.push(reason);
  }

  firstChunk(at: number): void {
    this.span.setAttribute(GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (at - this.startedAt) / 1000);
  }

  /**
   * The upstream's answer was read (JSON) or its stream ended cleanly. The
   * span stays open until the request's usage is known (the usage row's
   * own counts go on it), unless no request waits for it.
   */
  succeeded(at = Date.now()): void {
    this.#endAt = at;
    if (this.#finishReasons) this.span.setAttribute(GEN_AI_RESPONSE_FINISH_REASONS, this.#finishReasons);
    if (this.owner) this.owner.answered = this;
    else this.end();
  }

  /** The attempt failed (before or, for a stream, after its first chunk). */
  failed(outcome: AttemptOutcome, upstreamStatus: number | undefined, message: string): void {
    if (this.#ended) return;
    if (this.owner?.answered === this) this.owner.answered = undefined;
    if (upstreamStatus !== undefined) this.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, upstreamStatus);
    // The HTTP client convention: the status code when there is one, else what went wrong.
    this.span.setAttribute(ATTR_ERROR_TYPE, upstreamStatus !== undefined && upstreamStatus >= 400 ? String(upstreamStatus) : outcome);
    this.span.setAttribute(GATEWAY.outcome, outcome);
    if (this.#finishReasons) this.span.setAttribute(GEN_AI_RESPONSE_FINISH_REASONS, this.#finishReasons);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.end();
  }

  /** Ends the span with the request's usage: the counts the usage row holds. */
  end(usage?: RequestSummary['usage']): void {
    if (this.#ended) return;
    this.#ended = true;
    if (usage) setUsage(this.span, usage);
    this.span.end(this.#endAt ?? Date.now());
  }
}

function setUsage(span: Span, usage: RequestSummary['usage']): void {
  span.setAttribute(GEN_AI_USAGE_INPUT_TOKENS, usage.promptTokens);
  span.setAttribute(GEN_AI_USAGE_OUTPUT_TOKENS, usage.completionTokens);
  if (usage.cachedTokens > 0) span.setAttribute(GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cachedTokens);
  const cacheWrites = (usage.cacheWriteTokens ?? 0) + (usage.cacheWrite1hTokens ?? 0);
  if (cacheWrites > 0) span.setAttribute(GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cacheWrites);
  if (usage.reasoningTokens > 0) span.setAttribute(GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningTokens);
}

export interface TracingOptions {
  tracer: Tracer;
  /** W3C trace context: what a client's traceparent means, and what goes upstream. */
  propagator: TextMapPropagator;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

type Carrier = Record<string, string | string[] | undefined>;

/** The gateway's traces: server, admission, attempt and settlement spans. */
export class Tracing implements RequestObserver, AttemptTracer {
  readonly #tracer: Tracer;
  readonly #propagator: TextMapPropagator;
  readonly #options: TracingOptions;
  /** Traced requests still waiting for their summary or settlement, oldest first. */
  readonly #live = new Map<string, LiveTrace>();
  readonly #hosts = new Map<string, Attributes>();

  constructor(options: TracingOptions) {
    this.#options = options;
    this.#tracer = options.tracer;
    this.#propagator = options.propagator;
  }

  /** Opens a request's SERVER span, the child of the client's traceparent when it sent one. */
  startRequest(requestId: string, headers: Carrier, name: string, attributes: Attributes): RequestTrace {
    const parent = headers.traceparent === undefined ? ROOT_CONTEXT : this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const now = Date.now();
    attributes[GATEWAY.requestId] = requestId;
    const span = this.#tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: now }, parent);
    const live = new LiveTrace(span, requestId, now);
    // A span the sampler dropped still has ids to pass upstream, but nothing is drawn after the fact.
    if (span.isRecording()) this.#live.set(requestId, live);
    return live;
  }

  /** Ends the server span when the response is over (or the client went away). */
  endRequest(requestTrace: RequestTrace, statusCode: number, aborted: boolean): void {
    if (!(requestTrace instanceof LiveTrace) || !requestTrace.span) return;
    const { span } = requestTrace;
    requestTrace.span = undefined;
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
      // A server span is an error on 5xx only: a 4xx is the client's.
      if (statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else if (aborted) {
        span.setAttribute(ATTR_ERROR_TYPE, 'client_closed');
      }
    }
    span.end(Date.now());
    // A request that was never metered (no summary, no attempt) has nothing more to draw.
    if ((requestTrace.summarized && !requestTrace.settlementDue) || (!requestTrace.summarized && !requestTrace.answered)) {
      this.#live.delete(requestTrace.requestId);
    }
  }

  /** Opens an upstream attempt's CLIENT span; undefined when the request is not traced here. */
  startAttempt(requestTrace: RequestTrace | undefined, info: AttemptInfo): AttemptTrace | undefined {
    if (!(requestTrace instanceof LiveTrace)) return undefined;
    const now = Date.now();
    const span = this.#tracer.startSpan(
      `${info.operation} ${info.upstreamModel}`,
      { kind: SpanKind.CLIENT, startTime: now, attributes: this.#attemptAttributes(info) },
      requestTrace.context,
    );
    const headers: Record<string, string> = {};
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return new AttemptTrace(span, headers, span.isRecording() && this.#live.has(requestTrace.requestId) ? requestTrace : undefined, now);
  }

  #attemptAttributes(info: AttemptInfo): Attributes {
    const attributes: Attributes = {
      [GEN_AI_OPERATION_NAME]: info.operation,
      [GEN_AI_PROVIDER_NAME]: genAiProviderName(info.provider),
      [GEN_AI_REQUEST_MODEL]: info.upstreamModel,
      [GATEWAY.provider]: info.provider,
      [GATEWAY.model]: info.modelId,
      [GATEWAY.attempt]: info.attempt,
      ...this.#host(info.baseUrl),
    };
    if (info.upstreamKeyId) attributes[GATEWAY.upstreamKeyId] = info.upstreamKeyId;
    if (info.operation === 'chat') attributes[GEN_AI_REQUEST_STREAM] = info.stream;
    if (info.maxTokens !== undefined) attributes[GEN_AI_REQUEST_MAX_TOKENS] = info.maxTokens;
    if (typeof info.temperature === 'number') attributes[GEN_AI_REQUEST_TEMPERATURE] = info.temperature;
    if (typeof info.topP === 'number') attributes[GEN_AI_REQUEST_TOP_P] = info.topP;
    return attributes;
  }

  /** server.address and server.port of an upstream base URL, parsed once per URL. */
  #host(baseUrl: string): Attributes {
    let host = this.#hosts.get(baseUrl);
    if (!host) {
      host = {};
      try {
        const url = new URL(baseUrl);
        host[ATTR_SERVER_ADDRESS] = url.hostname;
        host[ATTR_SERVER_PORT] = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
      } catch {
        // The test-mode mock has no URL.
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
    if (live.span) {
      live.span.setAttributes({
        [GATEWAY.projectId]: summary.projectId,
        [GATEWAY.apiKeyId]: summary.apiKeyId,
        [GATEWAY.endpoint]: summary.endpoint,
        [GATEWAY.model]: summary.modelId,
        [GATEWAY.status]: summary.status,
        [GATEWAY.cost]: formatMoney(summary.cost),
      });
    }
    const rejected = summary.status === 'rejected';
    const admission = this.#tracer.startSpan(
      'admission',
      {
        kind: SpanKind.INTERNAL,
        startTime: Math.min(summary.receivedAt ?? live.startedAt, summary.startedAt),
        attributes: rejected ? {} : { [GATEWAY.reservedCost]: formatMoney(summary.reservedCost), [GATEWAY.reservationHolder]: summary.reservation ?? 'unknown' },
      },
      live.context,
    );
    if (rejected) {
      admission.setAttribute(ATTR_ERROR_TYPE, summary.errorCode ?? String(summary.httpStatus));
      admission.setStatus({ code: SpanStatusCode.ERROR });
    }
    admission.end(rejected ? summary.endedAt : summary.startedAt);
    live.answered?.end(summary.usage);
    live.answered = undefined;
    if (!live.span && !live.settlementDue) this.#live.delete(summary.requestId);
  }

  /** A settlement batch was written: one `settlement` span under each of its requests, with the batch's times. */
  requestsSettled(requests: readonly SettledRequest[], startedAt: number, endedAt: number): void {
    for (const settled of requests) {
      const live = this.#live.get(settled.requestId);
      if (!live) continue;
      this.#live.delete(settled.requestId);
      this.#tracer
        .startSpan(
          'settlement',
          { kind: SpanKind.INTERNAL, startTime: startedAt, attributes: { [GATEWAY.batchSize]: requests.length, [GATEWAY.cost]: formatMoney(settled.charged) } },
          live.context,
        )
        .end(endedAt);
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
