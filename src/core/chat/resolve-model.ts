import type { Metering, Endpoint } from '../billing/metering.js';
import type { Catalogue, CatalogueModel } from '../catalogue/catalogue.js';
import { GatewayError } from '../errors.js';
import { validate } from '../validate.js';
import { recordableText } from '../../contract/text-limits.js';
import type { PermissionStore } from '../permissions/permission-store.js';
import type { RequestContext } from '../request-context.js';

/** The catalogue model a request names, after the existence, kind and permission checks. */
export async function resolveModel(
  deps: { catalogue: Catalogue; permissions: PermissionStore; metering: Metering },
  ctx: RequestContext,
  modelId: string,
  endpoint: Endpoint,
  stream: boolean,
): Promise<CatalogueModel> {
  const model = deps.catalogue.get(modelId);
  let error: GatewayError | undefined;
  if (!model) {
    error = new GatewayError('not_found', `The model '${modelId}' does not exist.`, { param: 'model' });
  } else if (!(await deps.permissions.isAllowed(ctx.key.projectId, modelId))) {
    error = new GatewayError('permission', `This project is not allowed to use the model '${modelId}'.`, { param: 'model' });
  } else if ((endpoint === 'chat') !== (model.kind === 'chat')) {
    error = new GatewayError(
      'invalid_request',
      `The model '${modelId}' is ${model.kind === 'chat' ? 'a chat model' : 'an embedding model'} and cannot be used with /v1/${endpoint === 'chat' ? 'chat/completions' : 'embeddings'}.`,
      { param: 'model' },
    );
  }
  if (error) {
    await deps.metering.reject(ctx, modelId, endpoint, error, stream);
    throw error;
  }
  return model!;
}

/** Validates a body; a refusal still leaves a usage record naming the model the client asked for. */
export async function validateOrReject<S extends import('zod').z.ZodType>(
  deps: { metering: Metering },
  ctx: RequestContext,
  schema: S,
  body: unknown,
  endpoint: Endpoint,
): Promise<import('zod').z.infer<S>> {
  try {
    return validate(schema, body);
  } catch (e) {
    if (e instanceof GatewayError) {
      const model = (body as { model?: unknown } | null)?.model;
      const stream = (body as { stream?: unknown } | null)?.stream === true;
      await deps.metering.reject(ctx, typeof model === 'string' ? recordableText(model) : '', endpoint, e, stream);
    }
    throw e;
  }
}
