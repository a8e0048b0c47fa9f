import type { z } from 'zod';
import { recordableText } from '../../contract/text-limits.js';
import { ENDPOINT_PATHS, endpointModelKind } from '../../contract/endpoints.js';
import type { Endpoint, Meter, Metering } from '../billing/metering.js';
import type { Catalogue, CatalogueModel } from '../catalogue/catalogue.js';
import { GatewayError } from '../errors.js';
import type { PermissionStore } from '../permissions/permission-store.js';
import { admitRate } from '../rate-limit/admit.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { RequestContext } from '../request-context.js';
import { validate } from '../validate.js';

// The way into every metered endpoint, whatever door the request came
// through: validate, resolve the model, check permission, count the rate,
// reserve the money. A refusal at any step is recorded once, here, as a
// `rejected` usage row naming the model the client asked for; a door is a
// parser before this and a renderer after it.

export interface AdmissionDeps {
  catalogue: Catalogue;
  permissions: PermissionStore;
  metering: Metering;
  rateLimiter: RateLimiter;
}

/** What an endpoint tells the admission about its requests. */
export interface AdmissionPlan<S extends z.ZodType> {
  endpoint: Endpoint;
  schema: S;
  model(req: z.infer<S>): string;
  stream(req: z.infer<S>): boolean;
  /**
   * Prompt tokens (exact for small prompts, an upper bound for large ones,
   * so nothing waits for a count), the output tokens to reserve, and the
   * tokens the per-minute limit counts.
   */
  size(req: z.infer<S>, model: CatalogueModel): { promptTokens: number; maxCompletionTokens: number; rateTokens: number };
}

export interface Admitted<S extends z.ZodType> {
  req: z.infer<S>;
  model: CatalogueModel;
  meter: Meter;
  stream: boolean;
  size: ReturnType<AdmissionPlan<S>['size']>;
  /** The x-ratelimit-* headers for the answer. */
  headers: Record<string, string>;
}

/** Admits a request or throws the GatewayError the client gets, after recording the refusal. */
export async function admit<S extends z.ZodType>(deps: AdmissionDeps, ctx: RequestContext, body: unknown, plan: AdmissionPlan<S>): Promise<Admitted<S>> {
  let modelId = requestedModel(body);
  let stream = (body as { stream?: unknown } | null)?.stream === true;
  try {
    const req = validate(plan.schema, body);
    modelId = plan.model(req);
    stream = plan.stream(req);
    const model = await permittedModel(deps, ctx, modelId, plan.endpoint);
    const size = plan.size(req, model);
    const headers = await admitRate(deps.rateLimiter, ctx.key, size.rateTokens);
    const meter = await deps.metering.open(ctx, model, plan.endpoint, size, stream);
    return { req, model, meter, stream, size, headers };
  } catch (e) {
    if (e instanceof GatewayError && e.status < 500) await deps.metering.reject(ctx, modelId, plan.endpoint, e, stream);
    throw e;
  }
}

/** The model a body names, fit to record even when the body is refused. */
const requestedModel = (body: unknown): string => {
  const model = (body as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? recordableText(model) : '';
};

/** The catalogue model a request names, after the existence, kind and permission checks. */
export async function permittedModel(
  deps: { catalogue: Catalogue; permissions: PermissionStore },
  ctx: RequestContext,
  modelId: string,
  endpoint: Endpoint,
): Promise<CatalogueModel> {
  const model = deps.catalogue.get(modelId);
  if (!model) throw new GatewayError('not_found', `The model '${modelId}' does not exist.`, { param: 'model' });
  if (!(await deps.permissions.isAllowed(ctx.key.projectId, modelId))) {
    throw new GatewayError('permission', `This project is not allowed to use the model '${modelId}'.`, { param: 'model' });
  }
  if (endpointModelKind(endpoint) !== model.kind) {
    throw new GatewayError(
      'invalid_request',
      `The model '${modelId}' is ${model.kind === 'chat' ? 'a chat model' : 'an embedding model'} and cannot be used with ${ENDPOINT_PATHS[endpoint]}.`,
      { param: 'model' },
    );
  }
  return model;
}
