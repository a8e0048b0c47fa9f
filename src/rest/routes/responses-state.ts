import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InputItemsQuery } from '../../core/doors/responses/response-store.js';
import { responseNotFound } from '../../core/doors/responses/response-store.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { projectKeyMode } from '../../core/keys/project-key.js';
import { identifierParam } from '../../core/validation/identifier-param.js';
import { presentedKey } from '../authenticate.js';

type IdParams = { Params: { id: string } };
type Query = Record<string, string | string[] | undefined>;

/** The values the spec's `include` takes; stored items already hold what each would add. */
const INCLUDE_VALUES = new Set([
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
]);

/**
 * Whose responses the caller may read: a project key reads its project's,
 * an operator token any project's (reads only). Anything else is the key
 * check's 401.
 */
async function reader(gateway: Gateway, request: FastifyRequest): Promise<{ projectId: string } | { operator: true }> {
  const secret = presentedKey(request);
  if (secret && !projectKeyMode(secret) && (await gateway.adminTokens.verify(secret))) return { operator: true };
  return { projectId: (await gateway.keys.authenticate(secret)).projectId };
}

/** The project a read runs under: the key's, or for an operator the response's own (404 when there is none). */
async function readProject(gateway: Gateway, request: FastifyRequest, id: string): Promise<string> {
  const who = await reader(gateway, request);
  if ('projectId' in who) return who.projectId;
  const found = await gateway.responseStore.findAny(id);
  if (!found) throw responseNotFound(id);
  return found.projectId;
}

const one = (query: Query, name: string): string | undefined => {
  const value = query[name];
  if (Array.isArray(value)) throw new GatewayError('invalid_request', `Invalid value for '${name}': give it once.`, { param: name });
  return value;
};

function includeParam(query: Query): string[] {
  const raw = [query.include, query['include[]']].flat().filter((v): v is string => typeof v === 'string');
  const values = raw.flatMap((v) => v.split(',')).filter((v) => v !== '');
  const unknown = values.find((v) => !INCLUDE_VALUES.has(v));
  if (unknown !== undefined) {
    throw new GatewayError('invalid_request', `Invalid value for 'include': '${unknown.slice(0, 64)}' is not one of ${[...INCLUDE_VALUES].join(', ')}.`, { param: 'include' });
  }
  return values;
}

function inputItemsQuery(query: Query): InputItemsQuery {
  const limitText = one(query, 'limit');
  const limit = limitText === undefined ? undefined : /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (limit !== undefined && !(limit >= 1 && limit <= 100)) {
    throw new GatewayError('invalid_request', "Invalid value for 'limit': must be an integer from 1 to 100.", { param: 'limit' });
  }
  const order = one(query, 'order');
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new GatewayError('invalid_request', "Invalid value for 'order': must be 'asc' or 'desc'.", { param: 'order' });
  }
  const after = one(query, 'after');
  const before = one(query, 'before');
  return {
    limit,
    order,
    after: after === undefined ? undefined : identifierParam(after, 'after'),
    before: before === undefined ? undefined : identifierParam(before, 'before'),
    include: includeParam(query),
  };
}

/**
 * The stored side of the Responses API: retrieve, delete, list input items
 * and cancel, each under the caller's project (another project's id is the
 * same 404 as an unknown one). POST /responses is the door itself (responses.ts).
 */
export function responseStateRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get<IdParams & { Querystring: Query }>('/responses/:id', async (request) => {
    const id = identifierParam(request.params.id, 'response_id');
    if (one(request.query, 'stream') === 'true') {
      throw new GatewayError('invalid_request', 'Streaming a stored response is not supported: retrieve it without stream, and poll a background response until it finishes.', {
        param: 'stream',
      });
    }
    includeParam(request.query);
    return gateway.responseStore.get(await readProject(gateway, request, id), id);
  });

  app.get<IdParams & { Querystring: Query }>('/responses/:id/input_items', async (request) => {
    const id = identifierParam(request.params.id, 'response_id');
    const query = inputItemsQuery(request.query);
    return gateway.responseStore.inputItems(await readProject(gateway, request, id), id, query);
  });

  app.delete<IdParams>('/responses/:id', async (request) => {
    const id = identifierParam(request.params.id, 'response_id');
    const key = await gateway.keys.authenticate(presentedKey(request));
    return gateway.responseStore.delete(key.projectId, id);
  });

  app.post<IdParams>('/responses/:id/cancel', async (request) => {
    const id = identifierParam(request.params.id, 'response_id');
    const key = await gateway.keys.authenticate(presentedKey(request));
    return gateway.backgroundResponses.cancel(key.projectId, id);
  });
}
