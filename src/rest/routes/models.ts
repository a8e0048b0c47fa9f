import type { FastifyInstance } from 'fastify';
import type { CatalogueModel } from '../../core/catalogue/catalogue.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { ALL_MODELS } from '../../core/permissions/permission-store.js';
import { identifierParam } from '../../core/validation/identifier-param.js';
import { presentedKey } from '../authenticate.js';

const modelObject = (m: CatalogueModel) => ({ id: m.id, object: 'model' as const, created: m.created, owned_by: m.ownedBy });

export function modelRoutes(app: FastifyInstance, gateway: Gateway): void {
  const visible = async (secret: string | undefined) => {
    const key = await gateway.keys.authenticate(secret);
    const allowed = await gateway.permissions.allowed(key.projectId);
    return gateway.catalogue.list().filter((m) => allowed.has(ALL_MODELS) || allowed.has(m.id));
  };

  app.get('/models', async (request) => {
    const list = await visible(presentedKey(request));
    return { object: 'list', data: list.map(modelObject) };
  });

  app.get<{ Params: { '*': string } }>('/models/*', async (request) => {
    // Model ids may contain slashes (`org/model`), hence the wildcard.
    const list = await visible(presentedKey(request));
    const id = identifierParam(request.params['*'], 'model');
    const model = list.find((m) => m.id === id);
    if (!model) throw new GatewayError('not_found', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });
    return modelObject(model);
  });
}
