import type { FastifyInstance } from 'fastify';
import { keyBalance } from '../../core/billing/key-balance.js';
import type { Gateway } from '../../core/gateway.js';
import { projectKeyMode } from '../../core/keys/project-key.js';
import { identifierParam } from '../../core/validation/identifier-param.js';
import { presentedKey } from '../authenticate.js';

export function balanceRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.get<{ Params: { keyId: string } }>('/balance/:keyId', async (request) => {
    const secret = presentedKey(request);
    // An operator token may read any key's balance; a project key only its own.
    if (secret && !projectKeyMode(secret) && (await gateway.adminTokens.verify(secret))) {
      return keyBalance(gateway.database.db, identifierParam(request.params.keyId, 'keyId'), undefined);
    }
    const key = await gateway.keys.authenticate(secret);
    return keyBalance(gateway.database.db, identifierParam(request.params.keyId, 'keyId'), key.id);
  });
}
