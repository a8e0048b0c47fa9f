import { type ChatRequest, outputCap } from '../../contract/chat-request.js';
import { type EmbeddingRequest, embeddingInputs } from '../../contract/embedding-request.js';
import type { CatalogueModel } from '../catalogue/catalogue.js';
import type { HealthTracker } from '../health/health-tracker.js';
import type { Logger } from '../logger.js';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse } from '../../contract/openai-shapes.js';
import { type CallContext, type ProviderAdapter, ProviderError, type UpstreamTransport } from '../../contract/provider.js';
import { estimatePromptTokens, estimateTextsTokens } from '../../tokens/count-tokens.js';
import { type CapTicket, KeyRateCaps } from './key-rate-caps.js';
import { orderKeys } from './order-keys.js';
import { type NeededCapability, neededCapabilities, unmetCapability } from './required-capabilities.js';
import type { RequestContext } from '../request-context.js';
import type { Deadline } from './deadline.js';
import { NoUpstreamError } from './routing-errors.js';
import { type AttemptOutcome, type AttemptRecord, attemptOutcome } from './attempt-record.js';

export type { AttemptOutcome, AttemptRecord } from './attempt-record.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';
import { HOP_HEADER, nextHopValue, parseHopMarks } from './upstream-hop.js';
import type { AttemptInfo, AttemptSpan, AttemptTracer, RequestTrace } from '../telemetry/tracing-seams.js';

/** Upper bound on upstream calls per request, across keys and fallback models together. */
export const MAX_ATTEMPTS = 5;

export interface DispatchOptions {
  requestId: string;
  /** Aborts on client disconnect and at the deadline. */
  signal: CancelSignal;
  hints?: Record<string, string | undefined>;
  test: boolean;
  /** Where each upstream attempt is recorded as it ends, for the request explorer, metrics and traces. */
  attempts?: AttemptRecord[];
  /** The request's trace: each attempt is drawn under it, and its traceparent goes upstream. */
  trace?: RequestTrace;
}


/** What a request hands the dispatcher: its id, its deadline's signal, test mode, the client's hints. */
export const dispatchOptions = (ctx: RequestContext, deadline: Deadline): DispatchOptions => ({
  requestId: ctx.requestId,
  signal: deadline.signal,
  test: ctx.key.mode === 'test',
  ...(ctx.hints ? { hints: ctx.hints } : {}),
  ...(ctx.attempts ? { attempts: ctx.attempts } : {}),
  ...(ctx.trace ? { trace: ctx.trace } : {}),
});

export interface RouteInfo {
  /** The public model that answered (a fallback's id when one was used). */
  modelId: string;
  provider: string;
  upstreamModel: string;
  upstreamKeyId: string | null;
  attempts: number;
}

export interface Dispatched<T> {
  value: T;
  route: RouteInfo;
}

export interface OpenedStream {
  /** Already received, so a stream that dies before its first chunk could still fail over. */
  first: ChatCompletionChunk[];
  /** Batches of chunks as they arrived (see ChatStream). */
  rest: AsyncIterator<ChatCompletionChunk[]>;
  startedAt: number;
  /** Reports the stream's end to provider health. */
  finish(error?: ProviderError): void;
}

interface Candidate {
  model: CatalogueModel;
  provider: string;
  upstreamModel: string;
  keyId: string;
  baseUrl: string;
  apiKey: string;
  adapter: ProviderAdapter;
  rpmLimit: number | null;
  tpmLimit: number | null;
}

export interface DispatcherDeps {
  pool: UpstreamPool;
  health: HealthTracker;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  mock: ProviderAdapter;
  /** Resolves fallback model ids. */
  modelById(id: string): CatalogueModel | undefined;
  defaultBaseUrl(provider: string): string | undefined;
  /** The upstream rejected a key's credentials: take it out of the pool. */
  onKeyFatal(keyId: string, reason: string): void;
  logger: Logger;
  /** Per-key RPM/TPM counters; one in memory by default. */
  caps?: KeyRateCaps;
  /** Uniform in [0, 1) for the weighted order within a tier (Math.random by default): tests pass their own. */
  random?: () => number;
  /** The connection pool applying the upstream host policy, and this deployment's hop mark (upstream-hop.ts). */
  upstream?: { agent: UpstreamTransport['agent']; hopMark: string };
  /** Present when tracing is on: every attempt gets a CLIENT span. */
  tracing?: AttemptTracer | undefined;
}

const asProviderError = (e: unknown): ProviderError =>
  e instanceof ProviderError ? e : new ProviderError(e instanceof Error ? e.message : String(e), 'retryable', undefined);

/**
 * Picks upstream keys for a model and fails over between them: lowest
 * priority tier first, weighted within it, skipping keys that health says
 * are cooling down, down or disabled; then the model's fallback models.
 * Retries stop at MAX_ATTEMPTS or when the request's signal aborts.
 */
export class Dispatcher {
  readonly #caps: KeyRateCaps;
  /** What a request that arrived with no hop marks goes out with: one object for all of them. */
  readonly #transport: UpstreamTransport | undefined;

  constructor(private readonly deps: DispatcherDeps) {
    this.#caps = deps.caps ?? new KeyRateCaps();
    this.#transport = deps.upstream && { agent: deps.upstream.agent, headers: { [HOP_HEADER]: deps.upstream.hopMark } };
  }

  /**
   * The request's transport: marks it arrived with (from another gateway)
   * are passed on before ours, and so is the client's trace context when
   * no span of ours stands between the client and the upstream.
   */
  #transportFor(opts: DispatchOptions): UpstreamTransport | undefined {
    const received = opts.hints?.[HOP_HEADER];
    const passOn = opts.trace?.passOn;
    const { upstream } = this.deps;
    if (!upstream || (received === undefined && passOn === undefined)) return this.#transport;
    const hop = received === undefined ? upstream.hopMark : nextHopValue(parseHopMarks(received), upstream.hopMark);
    return { agent: upstream.agent, headers: { [HOP_HEADER]: hop, ...passOn } };
  }

  chat(model: CatalogueModel, req: ChatRequest, opts: DispatchOptions): Promise<Dispatched<ChatCompletion>> {
    return this.#run(model, opts, chatTokens(req), neededCapabilities(req), { operation: 'chat', stream: false }, async (c, ctx, _ticket, span) => {
      const started = Date.now();
      const value = await c.adapter.chat(req, { maxOutputTokens: attemptCap(req, model, c.model), ...ctx });
      if (span) {
        span.response(value.model);
        for (const choice of value.choices) span.finishReason(choice.finish_reason);
      }
      return {
        value,
        usedTokens: value.usage?.total_tokens,
        onSuccess: () => this.deps.health.onSuccess(c.keyId, c.provider, Date.now() - started),
      };
    });
  }

  embed(model: CatalogueModel, req: EmbeddingRequest, opts: DispatchOptions): Promise<Dispatched<EmbeddingResponse>> {
    return this.#run(model, opts, () => estimateTextsTokens(embeddingInputs(req)), [], { operation: 'embeddings', stream: false }, async (c, ctx, _ticket, span) => {
      const started = Date.now();
      const value = await c.adapter.embed(req, model.dimensions ? { defaultDimensions: model.dimensions, ...ctx } : ctx);
      span?.response(value.model);
      return {
        value,
        usedTokens: value.usage?.total_tokens,
        onSuccess: () => this.deps.health.onSuccess(c.keyId, c.provider, Date.now() - started),
      };
    });
  }

  chatStream(model: CatalogueModel, req: ChatRequest, opts: DispatchOptions): Promise<Dispatched<OpenedStream>> {
    return this.#run(model, opts, chatTokens(req), neededCapabilities(req), { operation: 'chat', stream: true }, async (c, ctx, ticket, span) => {
      const startedAt = Date.now();
      const { chunks } = await c.adapter.chatStream(req, { maxOutputTokens: attemptCap(req, model, c.model), ...ctx });
      const upstream = chunks[Symbol.asyncIterator]();
      const head = await upstream.next();
      if (head.done) throw new ProviderError('The upstream stream ended before sending anything.', 'retryable', undefined);
      const ttft = Date.now() - startedAt;
      const { health } = this.deps;
      const caps = this.#caps;
      let usedTokens: number | undefined;
      // Watches the usage chunk go by, for the key's TPM count (and the finish reasons, for the attempt's span).
      const watch = span
        ? (batch: ChatCompletionChunk[]) => {
            for (const chunk of batch) {
              if (chunk.usage) usedTokens = chunk.usage.total_tokens;
              for (const choice of chunk.choices) span.finishReason(choice.finish_reason);
            }
          }
        : (batch: ChatCompletionChunk[]) => {
            for (const chunk of batch) if (chunk.usage) usedTokens = chunk.usage.total_tokens;
          };
      if (span) {
        span.firstChunk(startedAt + ttft);
        span.response(head.value[0]?.model);
      }
      watch(head.value);
      const rest: AsyncIterator<ChatCompletionChunk[]> = {
        next: async () => {
          const step = await upstream.next();
          if (!step.done) watch(step.value);
          return step;
        },
        return: async (value?: unknown) => (upstream.return ? upstream.return(value) : { done: true, value: undefined }),
      };
      let finished = false;
      const value: OpenedStream = {
        first: head.value,
        rest,
        startedAt,
        finish: (error) => {
          if (finished) return;
          finished = true;
          if (span) {
            if (error) span.failed(attemptOutcome(error, opts.signal.aborted), error.upstreamStatus, error.message);
            else span.succeeded();
          }
          if (c.keyId === 'mock') return;
          if (usedTokens !== undefined) caps.settle(ticket, usedTokens);
          // A stream the client left, or whose own deadline passed, says nothing about the key.
          if (error && opts.signal.aborted) health.onCancel(c.keyId);
          else if (error) health.onFailure(c.keyId, c.provider, error, Date.now() - startedAt);
          else health.onSuccess(c.keyId, c.provider, Date.now() - startedAt, ttft);
        },
      };
      // Health for streams is reported when the stream ends, by finish().
      return { value, onSuccess: () => {} };
    });
  }

  /**
   * The prompt's input tokens as an upstream that counts them reports them
   * (Anthropic's count_tokens), from the model's first available keys whose
   * adapter counts; undefined when none does or the tries failed. A free
   * side call: key health and rate caps are left as they are.
   */
  async countTokens(model: CatalogueModel, req: ChatRequest, opts: DispatchOptions): Promise<number | undefined> {
    let tries = 0;
    for (const c of this.#candidates(model, opts.test, [])) {
      if (c.keyId === 'mock' || !c.adapter.countTokens || !this.deps.health.isAvailable(c.keyId)) continue;
      if (++tries > 2 || opts.signal.aborted) break;
      try {
        return await c.adapter.countTokens(req, {
          target: { keyId: c.keyId, provider: c.provider, baseUrl: c.baseUrl, apiKey: c.apiKey, upstreamModel: c.upstreamModel },
          signal: opts.signal,
          requestId: opts.requestId,
          ...(opts.hints ? { hints: opts.hints } : {}),
          transport: this.#transportFor(opts),
          maxOutputTokens: attemptCap(req, model, c.model),
        });
      } catch (e) {
        this.deps.logger.debug({ requestId: opts.requestId, upstreamKeyId: c.keyId, err: asProviderError(e).message }, 'upstream token count failed');
      }
    }
    return undefined;
  }

  /** Requests and tokens counted against an upstream key's caps in the current minute. */
  capUsage(keyId: string): { requests: number; tokens: number } {
    return this.#caps.usage(keyId);
  }

  *#candidates(model: CatalogueModel, test: boolean, needs: NeededCapability[]): Generator<Candidate> {
    if (test) {
      yield { model, provider: 'mock', upstreamModel: model.id, keyId: 'mock', baseUrl: '', apiKey: '', adapter: this.deps.mock, rpmLimit: null, tpmLimit: null };
      return;
    }
    const seen = new Set<string>();
    const models = [model, ...model.fallbacks.map((id) => this.deps.modelById(id))];
    for (const m of models) {
      if (!m || seen.has(m.id) || m.kind !== model.kind) continue;
      seen.add(m.id);
      // A fallback that cannot honour the request's options is no fallback.
      if (unmetCapability(m, needs)) continue;
      for (const route of m.routes) {
        const adapter = this.deps.adapters.get(route.provider);
        if (!adapter) continue;
        for (const key of orderKeys(this.deps.pool.keysFor(route.provider, route.upstreamModel), this.deps.random)) {
          const baseUrl = key.baseUrl ?? this.deps.defaultBaseUrl(route.provider);
          if (!baseUrl) continue;
          // An active key edited since its health was recorded (re-enabled on another replica, say) starts over.
          this.deps.health.forgetBefore(key.id, key.updatedAt);
          yield {
            model: m,
            provider: route.provider,
            upstreamModel: route.upstreamModel,
            keyId: key.id,
            baseUrl,
            apiKey: key.apiKey,
            adapter,
            rpmLimit: key.rpmLimit,
            tpmLimit: key.tpmLimit,
          };
        }
      }
    }
  }

  async #run<T>(
    model: CatalogueModel,
    opts: DispatchOptions,
    estimateTokens: () => number,
    needs: NeededCapability[],
    shape: AttemptShape,
    call: (c: Candidate, ctx: CallContext, ticket: CapTicket | undefined, span: AttemptSpan | undefined) => Promise<{ value: T; usedTokens?: number | undefined; onSuccess(): void }>,
  ): Promise<Dispatched<T>> {
    const { health, logger } = this.deps;
    const unmet = unmetCapability(model, needs);
    if (unmet) {
      throw new ProviderError(`${unmet.option} is not supported by model ${model.id}`, 'client', undefined, undefined, 400);
    }
    let attempts = 0;
    let lastError: ProviderError | undefined;
    let estimate: number | undefined;
    let cappedWaitMs: number | undefined;
    const transport = this.#transportFor(opts);
    for (const c of this.#candidates(model, opts.test, needs)) {
      if (attempts >= MAX_ATTEMPTS || opts.signal.aborted) break;
      const isMock = c.keyId === 'mock';
      if (!isMock && !health.isAvailable(c.keyId)) continue;
      let ticket: CapTicket | undefined;
      if (!isMock && (c.rpmLimit != null || c.tpmLimit != null)) {
        estimate ??= estimateTokens();
        const capped = { id: c.keyId, rpmLimit: c.rpmLimit, tpmLimit: c.tpmLimit };
        const wait = this.#caps.waitMs(capped, estimate);
        if (wait > 0) {
          cappedWaitMs = Math.min(cappedWaitMs ?? wait, wait);
          logger.debug({ requestId: opts.requestId, upstreamKeyId: c.keyId, waitMs: wait }, 'upstream key at its rate cap; skipped');
          continue;
        }
        ticket = this.#caps.take(capped, estimate);
      }
      attempts++;
      if (!isMock) health.onStart(c.keyId, c.provider);
      const started = Date.now();
      const span = opts.trace && this.deps.tracing?.startAttempt(opts.trace, attemptInfo(c, attempts, shape), transport?.headers);
      // Calls add their keys before spreading it ({ maxOutputTokens, ...ctx }), as everywhere on a request's path:
      // keys a literal adds after a leading spread give each object a hidden class of its own (docs/design.md).
      const ctx: CallContext = {
        target: { keyId: c.keyId, provider: c.provider, baseUrl: c.baseUrl, apiKey: c.apiKey, upstreamModel: c.upstreamModel },
        signal: opts.signal,
        requestId: opts.requestId,
        ...(opts.hints ? { hints: opts.hints } : {}),
        // The span's headers are the transport's and its traceparent.
        transport: span && transport ? { agent: transport.agent, headers: span.headers } : transport,
      };
      const record = (outcome: AttemptOutcome, error: ProviderError | null) =>
        opts.attempts?.push({
          attempt: attempts,
          modelId: c.model.id,
          provider: c.provider,
          upstreamModel: c.upstreamModel,
          upstreamKeyId: isMock ? null : c.keyId,
          outcome,
          upstreamStatus: error ? (error.upstreamStatus ?? null) : 200,
          error: error?.message ?? null,
          startedAt: started,
          durationMs: Date.now() - started,
        });
      try {
        const result = await call(c, ctx, ticket, span);
        record('ok', null);
        // A stream's span ends with the stream (OpenedStream.finish).
        if (span && !shape.stream) span.succeeded();
        if (result.usedTokens !== undefined) this.#caps.settle(ticket, result.usedTokens);
        if (!isMock) result.onSuccess();
        return {
          value: result.value,
          route: { modelId: c.model.id, provider: c.provider, upstreamModel: c.upstreamModel, upstreamKeyId: isMock ? null : c.keyId, attempts },
        };
      } catch (e) {
        // The upstream refused or failed: it counted no tokens (the request still counts toward RPM).
        this.#caps.settle(ticket, 0);
        const error = asProviderError(e);
        const outcome = attemptOutcome(error, opts.signal.aborted);
        record(outcome, error);
        span?.failed(outcome, error.upstreamStatus, error.message);
        if (opts.signal.aborted) {
          if (!isMock) health.onCancel(c.keyId);
          throw opts.signal.reason ?? e;
        }
        lastError = error;
        if (!isMock) health.onFailure(c.keyId, c.provider, error, Date.now() - started);
        logger.warn(
          { requestId: opts.requestId, attempt: attempts, provider: c.provider, upstreamKeyId: c.keyId, upstreamStatus: error.upstreamStatus, errorClass: error.errorClass, err: error.message },
          'upstream attempt failed',
        );
        if (error.errorClass === 'key_fatal' && !isMock) this.deps.onKeyFatal(c.keyId, error.message);
        if (error.errorClass === 'client' || isMock) throw error;
      }
    }
    if (attempts === 0 && cappedWaitMs !== undefined && !lastError) {
      lastError = new ProviderError('every upstream key that could serve it is at its RPM/TPM cap', 'retryable', undefined, cappedWaitMs);
    }
    throw new NoUpstreamError(
      attempts === 0
        ? `No upstream key is available for model ${model.id}: add one, or wait for cooling-down keys.`
        : `Every upstream attempt for model ${model.id} failed (${attempts} attempt${attempts > 1 ? 's' : ''}).`,
      lastError,
      attempts,
    );
  }
}

/**
 * The one output cap an attempt sends: the request's own, else the ceiling of
 * the model the gateway reserved for, lowered to a fallback's smaller ceiling.
 * Never more than the reservation, as an upstream bills what it generates.
 */
const attemptCap = (req: ChatRequest, reserved: CatalogueModel, routed: CatalogueModel): number =>
  outputCap(req, Math.min(reserved.maxOutputTokens, routed.maxOutputTokens));

/** What kind of call a request's attempts make, for their spans. */
interface AttemptShape {
  operation: AttemptInfo['operation'];
  stream: boolean;
}

const attemptInfo = (c: Candidate, attempt: number, shape: AttemptShape): AttemptInfo => ({
  operation: shape.operation,
  provider: c.provider,
  modelId: c.model.id,
  upstreamModel: c.upstreamModel,
  baseUrl: c.baseUrl,
  upstreamKeyId: c.keyId === 'mock' ? null : c.keyId,
  attempt,
});

/** The prompt's tokens, counted only when a capped key needs them. */
const chatTokens = (req: ChatRequest) => () => estimatePromptTokens(req.messages, req.tools);
