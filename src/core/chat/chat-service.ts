import type { CatalogueModel, Catalogue } from '../catalogue/catalogue.js';
import type { Meter, MeterClose, Metering, UsageCounts } from '../billing/metering.js';
import { GatewayError } from '../errors.js';
import type { PermissionStore } from '../permissions/permission-store.js';
import type { RequestContext } from '../request-context.js';
import { type Dispatcher, dispatchOptions, type OpenedStream, type RouteInfo } from '../routing/dispatcher.js';
import { type Deadline, requestDeadline } from '../routing/deadline.js';
import { DeadlineError } from '../routing/routing-errors.js';
import { toGatewayError } from '../routing/to-gateway-error.js';
import { countPromptTokensExact, countTextTokens, estimatePromptTokens } from '../../tokens/count-tokens.js';
import type { ChatCompletion, ChatCompletionChunk, Usage } from '../../contract/openai-shapes.js';
import { ProviderError } from '../../contract/provider.js';
import { type ChatRequest, chatRequestSchema, outputCap, requestedMaxTokens } from '../../contract/chat-request.js';
import { admit, type AdmissionPlan } from '../admission/admit.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';
import type { z } from 'zod';
import { startCapture } from '../explorer/payload-capture.js';
import { StreamTranscript } from '../explorer/stream-transcript.js';

export type ChatResponse =
  | { kind: 'json'; body: ChatCompletion; headers: Record<string, string> }
  | { kind: 'stream'; headers: Record<string, string>; events: AsyncGenerator<string, void, undefined> };

/**
 * A chat request as any door sees it after the core ran it: the completion,
 * or the stream of chunk batches to render. Everything else (permission,
 * rate, reservation, routing, output budget, settlement) happened or happens
 * in here, the same for every door.
 */
export type ChatRun =
  | { kind: 'json'; req: ChatRequest; completion: ChatCompletion; route: RouteInfo; usage: UsageCounts | undefined; headers: Record<string, string> }
  | {
      kind: 'stream';
      req: ChatRequest;
      route: RouteInfo;
      headers: Record<string, string>;
      /**
       * OpenAI chunk batches as they arrive, usage on the last chunk when the
       * upstream reported it (a door strips what it does not show). Throws
       * the GatewayError the client should see in the door's shape if the
       * stream fails after it began; ends quietly when the client went away.
       */
      batches: AsyncGenerator<ChatCompletionChunk[], void, undefined>;
    };

/** What a door other than /v1/chat/completions tells the chat service: how to admit its body, and the chat request it means. */
export interface ChatDoorPlan<S extends z.ZodType> extends AdmissionPlan<S> {
  toChat(req: z.infer<S>): ChatRequest;
}

export interface ChatServiceDeps {
  catalogue: Catalogue;
  permissions: PermissionStore;
  metering: Metering;
  dispatcher: Dispatcher;
  rateLimiter: RateLimiter;
  /** Used when the request sets no `timeout`. */
  defaultDeadlineMs: number;
}

const usageCounts = (u: Usage | null | undefined): UsageCounts | undefined =>
  u
    ? {
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
        reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
        cacheWriteTokens: u.prompt_tokens_details?.cache_write_tokens ?? 0,
        cacheWrite1hTokens: u.prompt_tokens_details?.cache_write_1h_tokens ?? 0,
      }
    : undefined;

const routeHeaders = (route: RouteInfo): Record<string, string> => ({
  'x-gateway-route': `${route.provider}/${route.upstreamModel}`,
  'x-gateway-attempts': String(route.attempts),
  ...(route.modelId ? { 'x-gateway-model': route.modelId } : {}),
});

/**
 * Watches a stream's output against what was reserved for it. A token is at
 * least one UTF-8 byte and a UTF-16 unit at most three, so the tokenizer only
 * runs once the text could possibly exceed the budget, and then every 32 chunks.
 */
class OutputBudget {
  #chunks = 0;
  #chars = 0;
  #counted = 0;

  constructor(private readonly maxTokens: number) {}

  exceeded(produced: string[]): boolean {
    this.#chunks++;
    for (let i = this.#counted; i < produced.length; i++) this.#chars += produced[i]!.length;
    this.#counted = produced.length;
    if (this.#chars * 3 <= this.maxTokens || this.#chunks % 32 !== 0) return false;
    return countTextTokens(produced.join('')) > this.maxTokens;
  }
}

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/**
 * Settles with our own count when the upstream reported no usage. A prompt
 * over the event loop's counting budget is counted on a worker thread; the
 * meter stays open (and shutdown waits for it) until the count is in.
 */
function closeCounted(meter: Meter, req: ChatRequest, completionTokens: number, outcome: Omit<MeterClose, 'usage'>): void {
  const close = (promptTokens: number) => meter.close({ usage: { promptTokens, completionTokens, cachedTokens: 0, reasoningTokens: 0 }, ...outcome });
  const prompt = countPromptTokensExact(req.messages, req.tools);
  if (typeof prompt === 'number') close(prompt);
  else void prompt.then(close);
}


/**
 * The admission sizes of a chat request: exact prompt tokens for small
 * prompts; for large ones an upper bound, so neither admission nor a 402
 * waits for a count. Doors whose requests translate to chat use it too.
 */
export function chatSize(req: ChatRequest, model: CatalogueModel): { promptTokens: number; maxCompletionTokens: number; rateTokens: number } {
  const promptTokens = estimatePromptTokens(req.messages, req.tools);
  return {
    promptTokens,
    maxCompletionTokens: outputCap(req, model.maxOutputTokens) * (req.n ?? 1),
    rateTokens: promptTokens + (requestedMaxTokens(req) ?? 0),
  };
}

const CHAT_ADMISSION: ChatDoorPlan<typeof chatRequestSchema> = {
  endpoint: 'chat',
  schema: chatRequestSchema,
  model: (req) => req.model,
  stream: (req) => req.stream === true,
  size: chatSize,
  toChat: (req) => req,
};

/** POST /v1/chat/completions: validate, permit, reserve, dispatch, stream or answer, settle. */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /** The OpenAI door: its body in, its JSON or its SSE events out. */
  async complete(ctx: RequestContext, body: unknown): Promise<ChatResponse> {
    const run = await this.run(ctx, body, CHAT_ADMISSION);
    if (run.kind === 'json') return { kind: 'json', body: { ...run.completion, model: run.req.model }, headers: run.headers };
    return { kind: 'stream', headers: run.headers, events: openAiEvents(run.req, run.batches) };
  }

  /** Any door: admits `body` by `plan`, runs the chat request it means, and hands back what to render. */
  async run<S extends z.ZodType>(ctx: RequestContext, body: unknown, plan: ChatDoorPlan<S>): Promise<ChatRun> {
    const admitted = await admit(this.deps, ctx, body, plan);
    const { model, meter, stream, size, headers: limitHeaders } = admitted;
    const req = plan.toChat(admitted.req);
    const capture = startCapture(ctx.key.project, body);
    if (capture) ctx.capture = capture;
    const maxCompletion = size.maxCompletionTokens;
    const deadline = this.#deadline(ctx, req);
    try {
      const response = stream
        ? await this.#stream(ctx, req, model, meter, deadline, maxCompletion)
        : await this.#json(ctx, req, model, meter, deadline);
      Object.assign(response.headers, limitHeaders);
      return response;
    } catch (e) {
      deadline.clear();
      const error = toGatewayError(deadline.timedOut() ? new DeadlineError(req.timeout != null) : e);
      meter.close({ status: ctx.client.gone ? 'aborted' : 'error', httpStatus: error.status, errorCode: error.type, usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } });
      throw error;
    }
  }

  #deadline(ctx: RequestContext, req: ChatRequest): Deadline {
    const ms = req.timeout != null ? req.timeout * 1000 : this.deps.defaultDeadlineMs;
    return requestDeadline(ctx.client, ms, req.timeout != null);
  }

  async #json(ctx: RequestContext, req: ChatRequest, model: CatalogueModel, meter: Meter, deadline: Deadline): Promise<ChatRun> {
    const { value, route } = await meter.whenRecorded(this.deps.dispatcher.chat(model, req, dispatchOptions(ctx, deadline)), deadline.abort);
    // The timer holds the whole request (Fastify's request and reply, the socket) until it fires.
    deadline.clear();
    const usage = usageCounts(value.usage);
    if (ctx.capture) ctx.capture.response = () => value;
    if (usage) meter.close({ status: 'ok', httpStatus: 200, usage, route });
    else closeCounted(meter, req, value.choices.reduce((n, c) => n + countTextTokens(c.message.content ?? ''), 0), { status: 'ok', httpStatus: 200, route });
    return { kind: 'json', req, completion: value, route, usage, headers: routeHeaders(route) };
  }

  async #stream(
    ctx: RequestContext,
    req: ChatRequest,
    model: CatalogueModel,
    meter: Meter,
    deadline: Deadline,
    maxCompletion: number,
  ): Promise<ChatRun> {
    const opening = this.deps.dispatcher.chatStream(model, req, dispatchOptions(ctx, deadline));
    const { value: opened, route } = await meter.whenRecorded(opening, deadline.abort).catch((e: unknown) => {
      // A stream that opened while its row failed to land is closed unread.
      void opening.then(({ value }) => {
        value.finish();
        void value.rest.return?.();
      }, () => {});
      throw e;
    });
    return { kind: 'stream', req, route, headers: routeHeaders(route), batches: this.#batches(ctx, req, meter, opened, route, deadline.signal, deadline.clear, maxCompletion) };
  }

  async *#batches(
    ctx: RequestContext,
    req: ChatRequest,
    meter: Meter,
    opened: OpenedStream,
    route: RouteInfo,
    signal: CancelSignal,
    clearDeadline: () => void,
    maxCompletion: number,
  ): AsyncGenerator<ChatCompletionChunk[], void, undefined> {
    const produced: string[] = [];
    const budget = new OutputBudget(maxCompletion);
    let upstreamUsage: UsageCounts | undefined;
    let failure: GatewayError | undefined;
    let providerFailure: ProviderError | undefined;
    let completed = false;
    const ttftMs = Date.now() - meter.startedAt;
    const transcript = ctx.capture ? new StreamTranscript() : undefined;
    if (transcript) ctx.capture!.response = () => transcript.result();
    let next: IteratorResult<ChatCompletionChunk[]> = { done: false, value: opened.first };
    try {
      while (!next.done) {
        const batch = next.value;
        for (let i = 0; i < batch.length; i++) {
          const chunk = batch[i]!;
          chunk.model = req.model;
          if (chunk.usage) upstreamUsage = usageCounts(chunk.usage);
          transcript?.add(chunk);
          for (const choice of chunk.choices) {
            const d = choice.delta;
            if (d.content) produced.push(d.content);
            if (d.reasoning_content) produced.push(d.reasoning_content);
            if (d.tool_calls) for (const t of d.tool_calls) produced.push(t.function?.name ?? '', t.function?.arguments ?? '');
          }
          if (chunk.choices.length > 0 && budget.exceeded(produced)) {
            if (i > 0) yield batch.slice(0, i);
            throw new GatewayError('insufficient_quota', `The response exceeded the ${maxCompletion} output tokens reserved for it and was stopped; set max_tokens to bound it.`);
          }
        }
        // What arrived together leaves together: one batch, one write.
        yield batch;
        next = await opened.rest.next();
      }
      completed = true;
    } catch (e) {
      if (signal.aborted && !ctx.client.gone) failure = toGatewayError(new DeadlineError(req.timeout != null));
      else if (!ctx.client.gone) failure = toGatewayError(e);
      if (e instanceof ProviderError) providerFailure = e;
      // Bytes were sent: no retry. The door renders the error as an event the client can see.
      if (failure) throw failure;
    } finally {
      clearDeadline();
      opened.finish(providerFailure);
      if (!completed) void opened.rest.return?.();
      const status = completed ? 'ok' : ctx.client.gone ? 'aborted' : 'error';
      const httpStatus = completed ? 200 : (failure?.status ?? 499);
      const errorCode = failure?.type ?? (status === 'aborted' ? 'client_closed' : null);
      if (upstreamUsage) meter.close({ status, httpStatus, errorCode, usage: upstreamUsage, route, ttftMs });
      else closeCounted(meter, req, countTextTokens(produced.join('')), { status, httpStatus, errorCode, route, ttftMs });
    }
  }
}

/** The OpenAI door's rendering of a chat stream: its SSE events, usage only when asked for, then [DONE]. */
async function* openAiEvents(req: ChatRequest, batches: AsyncGenerator<ChatCompletionChunk[], void, undefined>): AsyncGenerator<string, void, undefined> {
  const includeUsage = req.stream_options?.include_usage === true;
  try {
    for await (const batch of batches) {
      // What arrived together leaves together: one string, one write.
      let out = '';
      for (const chunk of batch) {
        if (chunk.choices.length === 0) {
          if (includeUsage && chunk.usage) out += sse(chunk);
          continue;
        }
        if (includeUsage) chunk.usage = null;
        else delete chunk.usage;
        out += sse(chunk);
      }
      if (out) yield out;
    }
    yield 'data: [DONE]\n\n';
  } catch (e) {
    // Bytes were sent: no retry. The client gets an error event it can see.
    yield sse(toGatewayError(e).toBody());
  }
}
