import type { ChatRequest } from '../../../contract/chat-request.js';
import { makeUsage, type Usage } from '../../../contract/openai-shapes.js';
import { type ResponseInputItem, type ResponsesRequest, responsesRequestSchema } from '../../../contract/responses-request.js';
import { recordableText } from '../../../contract/text-limits.js';
import { countPromptTokensExact, countTextTokens } from '../../../tokens/count-tokens.js';
import type { Metering } from '../../billing/metering.js';
import { type ChatDoorPlan, type ChatRun, type ChatService, chatSize } from '../../chat/chat-service.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RequestContext } from '../../request-context.js';
import { toGatewayError } from '../../routing/to-gateway-error.js';
import { validate } from '../../validate.js';
import type { BackgroundResponses } from './background-runner.js';
import { newResponseId, nowSeconds, type OutputItem, type ResponseObject, renderResponse, responseObject, responseUsage } from './render-response.js';
import type { ResponseStore } from './response-store.js';
import { ResponseEventRenderer, type ResponseStreamEvent, sseFrame } from './render-events.js';
import { inputItems, toChatRequest } from './to-chat.js';

export interface ResponsesServiceDeps {
  chat: ChatService;
  metering: Metering;
  logger: Logger;
  /** Stored responses: the previous_response_id chains and what `store` keeps. */
  state: Pick<ResponseStore, 'conversation' | 'save'>;
  /** Runs `background: true` requests detached from their caller. */
  background: Pick<BackgroundResponses, 'start'>;
}

export type ResponsesAnswer =
  | { kind: 'json'; body: ResponseObject; headers: Record<string, string> }
  | { kind: 'stream'; headers: Record<string, string>; events: AsyncGenerator<string, void, undefined> };

export interface ExecuteOptions {
  /** The response's id and creation time when the caller announced them already (a queued background response). */
  id?: string;
  createdAt?: number;
  /** Each stream event as it happens; given, the answer is streamed from the upstream. */
  onEvent?: (event: ResponseStreamEvent) => void;
  /** False when the caller stores the response itself. */
  persist?: boolean;
  /** Stream from the upstream even without `onEvent`, so a stop keeps what was produced. */
  stream?: boolean;
}

/** One request's translation, made once for both its admission size and its dispatch. */
interface Translation {
  req: ResponsesRequest;
  chat: ChatRequest;
}

/**
 * POST /v1/responses: a Responses request is a chat request (to-chat.ts)
 * run by the one ChatService, so admission, permissions, rate limits,
 * reservation, failover before the first byte, test mode and settlement
 * are chat's; this door parses, renders and stores.
 */
export class ResponsesService {
  constructor(private readonly deps: ResponsesServiceDeps) {}

  /** The door: the create body in, its JSON or its SSE frames out. */
  async create(ctx: RequestContext, body: unknown): Promise<ResponsesAnswer> {
    if ((body as { background?: unknown } | null)?.background === true) return { kind: 'json', body: await this.#background(ctx, body), headers: {} };
    const prior = await this.#prior(ctx, body);
    const id = newResponseId();
    const createdAt = nowSeconds();
    const { run, translation } = await this.#run(ctx, body, prior, undefined);
    if (run.kind === 'json') {
      const response = await rendered(translation, run, id, createdAt);
      await this.#save(ctx, translation.req, response);
      return { kind: 'json', body: response, headers: run.headers };
    }
    const events = this.#events(ctx, translation, run, id, createdAt, true);
    return { kind: 'stream', headers: run.headers, events: frames(events) };
  }

  /**
   * Runs a create body to its end and returns the final response object
   * (failed or cancelled ones included, once the upstream answered);
   * throws the GatewayError of a refusal or of an upstream that never
   * answered. For work that outlives its client (background mode).
   */
  async execute(ctx: RequestContext, body: unknown, options: ExecuteOptions = {}): Promise<ResponseObject> {
    return this.#executeWith(await this.#prior(ctx, body), ctx, body, options);
  }

  async #executeWith(prior: ResponseInputItem[], ctx: RequestContext, body: unknown, options: ExecuteOptions): Promise<ResponseObject> {
    const id = options.id ?? newResponseId();
    const createdAt = options.createdAt ?? nowSeconds();
    const persist = options.persist !== false;
    const { run, translation } = await this.#run(ctx, body, prior, options.onEvent || options.stream ? true : undefined);
    if (run.kind === 'json') {
      const response = await rendered(translation, run, id, createdAt);
      if (persist) await this.#save(ctx, translation.req, response);
      return response;
    }
    const result: { final?: ResponseObject } = {};
    for await (const batch of this.#events(ctx, translation, run, id, createdAt, persist, result)) {
      for (const event of batch) options.onEvent?.(event);
    }
    return result.final!;
  }

  /**
   * `background: true`: the body is checked and the chain found before the
   * queued response is returned; admission and the upstream call run
   * detached (a refusal there ends the response `failed`), streamed from the
   * upstream so a cancel keeps what was produced.
   */
  async #background(ctx: RequestContext, body: unknown): Promise<ResponseObject> {
    let req: ResponsesRequest;
    try {
      req = validate(responsesRequestSchema, body);
      if (req.stream === true) throw new GatewayError('invalid_request', 'stream=true cannot be combined with background=true here: create the response, then poll it.', { param: 'stream' });
    } catch (e) {
      if (e instanceof GatewayError) await this.#reject(ctx, body, e);
      throw e;
    }
    const prior = await this.#prior(ctx, body);
    const id = newResponseId();
    const createdAt = nowSeconds();
    const queued = responseObject(req, { id, createdAt, status: 'queued', output: [] });
    return (await this.deps.background.start(
      {
        id,
        projectId: ctx.key.projectId,
        apiKeyId: ctx.key.id,
        requestId: ctx.requestId,
        store: req.store !== false,
        previousResponseId: req.previous_response_id ?? null,
        body: queued,
        inputItems: inputItems(req),
      },
      (client) => this.#executeWith(prior, { ...ctx, client }, body, { id, createdAt, persist: false, stream: true }),
    )) as ResponseObject;
  }

  /** The earlier turns of a `previous_response_id` chain; a refusal is recorded like any other. */
  async #prior(ctx: RequestContext, body: unknown): Promise<ResponseInputItem[]> {
    const previous = (body as { previous_response_id?: unknown } | null)?.previous_response_id;
    if (typeof previous !== 'string' || previous.length === 0 || previous.length > 256) return [];
    try {
      return await this.deps.state.conversation(ctx.key.projectId, previous);
    } catch (e) {
      if (e instanceof GatewayError && e.status < 500) await this.#reject(ctx, body, e);
      throw e;
    }
  }

  /** A refusal before admission, recorded as admission records its own. */
  #reject(ctx: RequestContext, body: unknown, error: GatewayError): Promise<void> {
    const { model, stream } = (body ?? {}) as { model?: unknown; stream?: unknown };
    return this.deps.metering.reject(ctx, typeof model === 'string' ? recordableText(model) : '', 'responses', error, stream === true);
  }

  async #run(ctx: RequestContext, body: unknown, prior: ResponseInputItem[], forceStream: true | undefined): Promise<{ run: ChatRun; translation: Translation }> {
    let translation: Translation | undefined;
    const translate = (req: ResponsesRequest): ChatRequest => {
      if (translation?.req !== req) translation = { req, chat: toChatRequest(forceStream ? streaming(req) : req, prior) };
      return translation.chat;
    };
    const plan: ChatDoorPlan<typeof responsesRequestSchema> = {
      endpoint: 'responses',
      schema: responsesRequestSchema,
      model: (req) => req.model,
      stream: (req) => forceStream ?? req.stream === true,
      size: (req, model) => chatSize(translate(req), model),
      toChat: translate,
    };
    const run = await this.deps.chat.run(ctx, body, plan);
    return { run, translation: translation! };
  }

  /**
   * The stream's events, batch by batch, and the response stored when it
   * ends (completed, incomplete, failed, or cancelled by a client that left).
   */
  async *#events(
    ctx: RequestContext,
    translation: Translation,
    run: ChatRun & { kind: 'stream' },
    id: string,
    createdAt: number,
    persist: boolean,
    result: { final?: ResponseObject } = {},
  ): AsyncGenerator<ResponseStreamEvent[], void, undefined> {
    const { req } = translation;
    const renderer = new ResponseEventRenderer(req, id, createdAt);
    // The opening events leave with the first chunks: the chat stream is
    // read from the first pull on, so a client that leaves at any point
    // closes it and its meter.
    let out = renderer.start();
    // The last event leaves after the response is stored: a client that reads it can retrieve it.
    let stored = false;
    const store = async (response: ResponseObject) => {
      result.final = response;
      stored = true;
      if (persist) await this.#save(ctx, req, response);
    };
    try {
      for await (const batch of run.batches) {
        for (const event of renderer.batch(batch)) out.push(event);
        if (out.length > 0) {
          yield out;
          out = [];
        }
      }
      if (ctx.client.gone) return;
      const usage = renderer.usage ?? (await countedUsage(translation.chat, renderer.snapshot('in_progress').output));
      const end = renderer.finish(usage);
      await store(end.response);
      yield [...out, ...end.events];
    } catch (e) {
      const end = renderer.fail(toGatewayError(e));
      await store(end.response);
      yield [...out, ...end.events];
    } finally {
      // A client that left (or a cancel) stops the stream: what it had produced is kept.
      if (!stored) await store(renderer.stopped(ctx.client.gone ? 'cancelled' : 'failed'));
    }
  }

  async #save(ctx: RequestContext, req: ResponsesRequest, response: ResponseObject): Promise<void> {
    if (req.store === false) return;
    try {
      await this.deps.state.save({
        id: response.id,
        projectId: ctx.key.projectId,
        apiKeyId: ctx.key.id,
        requestId: ctx.requestId,
        status: response.status,
        background: req.background === true,
        store: true,
        previousResponseId: req.previous_response_id ?? null,
        body: response,
        inputItems: inputItems(req),
      });
    } catch (err) {
      // The answer is produced and billed; only a later previous_response_id or GET will miss it.
      this.deps.logger.error({ err, requestId: ctx.requestId, responseId: response.id }, 'storing a response failed');
    }
  }
}

/**
 * Usage counted by the gateway when the upstream reported none, as the
 * meter counts it: the prompt exactly, and every produced text.
 */
async function countedUsage(chat: ChatRequest, output: readonly OutputItem[]): Promise<Usage> {
  const produced: string[] = [];
  for (const item of output) {
    if (item.type === 'message') for (const part of item.content) produced.push(part.type === 'output_text' ? part.text : part.refusal);
    else if (item.type === 'reasoning') for (const part of item.content) produced.push(part.text);
    else produced.push(item.name, item.arguments);
  }
  const prompt = await countPromptTokensExact(chat.messages, chat.tools);
  return makeUsage(prompt, countTextTokens(produced.join('')));
}

/** A finished completion as its response object, with the gateway's count when the upstream reported no usage. */
async function rendered(translation: Translation, run: ChatRun & { kind: 'json' }, id: string, createdAt: number): Promise<ResponseObject> {
  const response = renderResponse(translation.req, run.completion, id, createdAt);
  if (!run.completion.usage) response.usage = responseUsage(await countedUsage(translation.chat, response.output));
  return response;
}

/** Event batches as SSE frames: what arrived together leaves in one write. */
async function* frames(batches: AsyncGenerator<ResponseStreamEvent[], void, undefined>): AsyncGenerator<string, void, undefined> {
  for await (const batch of batches) {
    let out = '';
    for (const event of batch) out += sseFrame(event);
    if (out) yield out;
  }
}

/** `{ ...req, stream: true }` with the key first when it is new: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md). */
const streaming = (req: ResponsesRequest): ResponsesRequest => (req.stream === undefined ? { stream: true, ...req } : { ...req, stream: true });
