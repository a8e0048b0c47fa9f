import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { adminTokens } from '../../db/schema.js';
import { auditedChange } from '../audit/audited-change.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { type AdminTokenRow, findAdminToken, insertAdminTokenRow, otherActiveAdmins } from './admin-tokens.js';
import { type ActionInput, idInput, nameInput, parseInput } from './admin-inputs.js';

type Deps = Pick<Gateway, 'database' | 'bus'>;

const createInput = z.object({ name: nameInput, role: z.enum(['admin', 'viewer']) });

/** A new operator token; the secret is in the result only. */
export async function createAdminTokenAction(deps: Deps, actor: string, input: ActionInput<typeof createInput>): Promise<{ secret: string; token: AdminTokenRow }> {
  const data = parseInput(createInput, input);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const { secret, row } = await insertAdminTokenRow(tx, data.name, data.role);
    return {
      result: { secret, token: row },
      audit: { action: 'createAdminToken', targetType: 'admin-token', targetId: row.id, before: null, after: row },
      events: [{ topic: 'invalidate', payload: { kind: 'admin-tokens' } }],
    };
  });
}

/** Revokes an operator token on every replica at once; the last active admin token cannot be revoked. */
export async function revokeAdminTokenAction(deps: Deps, actor: string, id: string): Promise<AdminTokenRow> {
  const tokenId = parseInput(idInput, id, 'id');
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findAdminToken(tx, tokenId);
    if (!before) throw new GatewayError('not_found', `Admin token ${tokenId} not found.`, { param: 'id' });
    if (before.role === 'admin' && !before.revokedAt && (await otherActiveAdmins(tx, tokenId)) === 0) {
      throw new GatewayError('invalid_request', 'This is the last active admin token; create another admin token before revoking it.', { param: 'id' });
    }
    const [after] = before.revokedAt
      ? [before]
      : await tx.update(adminTokens).set({ revokedAt: new Date() }).where(eq(adminTokens.id, tokenId)).returning();
    return {
      result: after!,
      audit: { action: 'revokeAdminToken', targetType: 'admin-token', targetId: tokenId, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'admin-tokens' } }],
    };
  });
}
