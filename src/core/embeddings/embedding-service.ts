import type { z } from 'zod';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { Metering } from '../billing/metering.js';
import { admit, type AdmissionPlan } from '../admission/admit.js';
import { embeddingToBase64 } from '../../contract/embedding-base64.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { PermissionStore } from '../permissions/permission-store.js';
import type { RequestContext } from '../request-context.js';
import { startCapture } from '../explorer/payload-capture.js';
import { type Dispatcher, dispatchOptions } from '../routing/dispatcher.js';
import { requestDeadline } from '../routing/deadline.js';
import { DeadlineError } from '../routing/routing-errors.js';
import { toGatewayError } from '../routing/to-gateway-error.js';
import { estimateTextsTokens } from '../../tokens/count-tokens.js';
import type { EmbeddingResponse } from '../../contract/openai-shapes.js';
import { type EmbeddingRequest, embeddingInputs, embeddingRequestSchema } from '../../contract/embedding-request.js';

export interface EmbeddingServiceDeps {
  catalogue: Catalogue;
  permissions: PermissionStore;
  metering: Metering;
  dispatcher: Dispatcher;
  rateLimiter: RateLimiter;
  defaultDeadlineMs: number;
}

/** What a door other than /v1/embeddings tells the service: how to admit its body, and the embedding request it means. */
export interface EmbeddingDoorPlan<S extends z.ZodType> extends AdmissionPlan<S> {
  toEmbedding(req: z.infer<S>): EmbeddingRequest;
}

/** Exact for small inputs, an upper bound for large ones: admission never waits for a count. */
export function embeddingSize(req: EmbeddingRequest): { promptTokens: number; maxCompletionTokens: number; rateTokens: number } {
  const promptTokens = estimateTextsTokens(embeddingInputs(req));
  return { promptTokens, maxCompletionTokens: 0, rateTokens: promptTokens };
}

const EMBEDDING_ADMISSION: EmbeddingDoorPlan<typeof embeddingRequestSchema> = {
  endpoint: 'embeddings',
  schema: embeddingRequestSchema,
  model: (req) => req.model,
  stream: () => false,
  size: embeddingSize,
  toEmbedding: (req) => req,
};

/** POST /v1/embeddings: validate, permit, reserve, dispatch, settle. */
export class EmbeddingService {
  constructor(private readonly deps: EmbeddingServiceDeps) {}

  /** Admits `body` by `plan` (the OpenAI door's unless another door's), embeds, and answers in OpenAI's shape for the door to render. */
  async embed<S extends z.ZodType>(
    ctx: RequestContext,
    body: unknown,
    plan: EmbeddingDoorPlan<S> = EMBEDDING_ADMISSION as unknown as EmbeddingDoorPlan<S>,
  ): Promise<{ body: EmbeddingResponse; headers: Record<string, string> }> {
    const admitted = await admit(this.deps, ctx, body, plan);
    const { model, meter, size, headers: limitHeaders } = admitted;
    const req = plan.toEmbedding(admitted.req);
    // Inputs only: the vectors say nothing a reader of the explorer needs.
    const capture = startCapture(ctx.key.project, body);
    if (capture) ctx.capture = capture;
    const { promptTokens } = size;
    const deadline = requestDeadline(ctx.client, this.deps.defaultDeadlineMs, false);
    // The key first when it is new: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
    const upstreamReq: EmbeddingRequest = req.encoding_format === undefined ? { encoding_format: 'float', ...req } : { ...req, encoding_format: 'float' };
    try {
      const { value, route } = await meter.whenRecorded(this.deps.dispatcher.embed(model, upstreamReq, dispatchOptions(ctx, deadline)), deadline.abort);
      const usage = { promptTokens: value.usage?.prompt_tokens ?? promptTokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 };
      meter.close({ status: 'ok', httpStatus: 200, usage, route });
      const data =
        req.encoding_format === 'base64'
          ? value.data.map((d) => ({ ...d, embedding: typeof d.embedding === 'string' ? d.embedding : embeddingToBase64(d.embedding) }))
          : value.data;
      return {
        body: { ...value, data, model: req.model, usage: { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens } },
        headers: { 'x-gateway-route': `${route.provider}/${route.upstreamModel}`, 'x-gateway-attempts': String(route.attempts), ...limitHeaders },
      };
    } catch (e) {
      const error = toGatewayError(deadline.timedOut() ? new DeadlineError(false) : e);
      meter.close({ status: ctx.client.gone ? 'aborted' : 'error', httpStatus: error.status, errorCode: error.type, usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } });
      throw error;
    } finally {
      deadline.clear();
    }
  }
}
