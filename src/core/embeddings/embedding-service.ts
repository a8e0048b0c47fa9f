import type { Catalogue } from '../catalogue/catalogue.js';
import type { Metering } from '../billing/metering.js';
import { admit, type AdmissionPlan } from '../admission/admit.js';
import { embeddingToBase64 } from '../../contract/embedding-base64.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { PermissionStore } from '../permissions/permission-store.js';
import type { RequestContext } from '../request-context.js';
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

const EMBEDDING_ADMISSION: AdmissionPlan<typeof embeddingRequestSchema> = {
  endpoint: 'embeddings',
  schema: embeddingRequestSchema,
  model: (req) => req.model,
  stream: () => false,
  size: (req) => {
    // Exact for small inputs, an upper bound for large ones: admission never waits for a count.
    const promptTokens = estimateTextsTokens(embeddingInputs(req));
    return { promptTokens, maxCompletionTokens: 0, rateTokens: promptTokens };
  },
};

/** POST /v1/embeddings: validate, permit, reserve, dispatch, settle. */
export class EmbeddingService {
  constructor(private readonly deps: EmbeddingServiceDeps) {}

  async embed(ctx: RequestContext, body: unknown): Promise<{ body: EmbeddingResponse; headers: Record<string, string> }> {
    const { req, model, meter, size, headers: limitHeaders } = await admit(this.deps, ctx, body, EMBEDDING_ADMISSION);
    const { promptTokens } = size;
    const deadline = requestDeadline(ctx.client, this.deps.defaultDeadlineMs, false);
    const upstreamReq: EmbeddingRequest = { ...req, encoding_format: 'float' };
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
        headers: { ...limitHeaders, 'x-gateway-route': `${route.provider}/${route.upstreamModel}`, 'x-gateway-attempts': String(route.attempts) },
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
