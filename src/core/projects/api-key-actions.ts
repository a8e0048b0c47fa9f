import { and, eq, gte, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { apiKeys, usageRecords } from '../../db/schema.js';
import { type ActionInput, idInput, nameInput, nonNegativeMoney, parseInput, perMinuteLimit } from '../admin/admin-inputs.js';
import { auditedChange } from '../audit/audited-change.js';
import { nameText } from '../../contract/text-limits.js';
import type { Gateway } from '../gateway.js';
import { type ApiKeyRow, findApiKey, insertApiKeyRows, type NewApiKey, revokeApiKeyRows } from './project-admin.js';

type Deps = Pick<Gateway, 'database' | 'bus'>;

const spendLimitPeriod = z.enum(['total', 'monthly']);
const dateInput = z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date');

const createInput = z.object({
  projectId: idInput,
  mode: z.enum(['live', 'test']),
  name: nameText().nullish(),
  spendLimit: nonNegativeMoney.nullish(),
  spendLimitPeriod: spendLimitPeriod.nullish(),
  expiresAt: dateInput.refine((d) => d.getTime() > Date.now(), 'must be in the future').nullish(),
  rpmLimit: perMinuteLimit.optional(),
  tpmLimit: perMinuteLimit.optional(),
});

/** Creates a project key; the secret is in the result and nowhere else. */
export async function createApiKeyAction(deps: Deps, actor: string, input: ActionInput<typeof createInput>): Promise<NewApiKey> {
  const data = parseInput(createInput, input);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const created = await insertApiKeyRows(tx, {
      projectId: data.projectId,
      mode: data.mode,
      name: data.name ?? '',
      spendLimit: data.spendLimit ?? null,
      spendLimitPeriod: data.spendLimitPeriod ?? 'total',
      expiresAt: data.expiresAt ?? null,
      rpmLimit: data.rpmLimit ?? null,
      tpmLimit: data.tpmLimit ?? null,
    });
    return {
      result: created,
      audit: { action: 'createApiKey', targetType: 'api-key', targetId: created.apiKey.id, before: null, after: created.apiKey },
      events: [{ topic: 'invalidate', payload: { kind: 'api-key', id: created.apiKey.id } }],
    };
  });
}

export async function revokeApiKeyAction(deps: Deps, actor: string, keyId: string): Promise<ApiKeyRow> {
  const id = parseInput(idInput, keyId, 'id');
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const { before, after } = await revokeApiKeyRows(tx, id);
    return {
      result: after,
      audit: { action: 'revokeApiKey', targetType: 'api-key', targetId: id, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'api-key', id } }],
    };
  });
}

const limitsInput = z.object({
  id: idInput,
  name: nameInput.optional(),
  spendLimit: nonNegativeMoney.nullable().optional(),
  spendLimitPeriod: spendLimitPeriod.optional(),
  expiresAt: dateInput.nullable().optional(),
  rpmLimit: perMinuteLimit.optional(),
  tpmLimit: perMinuteLimit.optional(),
});

/**
 * Sets a key's spend limit and period, expiry and rate limits. Fields left
 * out stay as they are; null clears a limit or the expiry. Switching the
 * period recomputes the spend it counts: this calendar month's settled cost
 * for `monthly`, the key's whole spend for `total`.
 */
export async function setApiKeyLimitsAction(deps: Deps, actor: string, input: ActionInput<typeof limitsInput>): Promise<ApiKeyRow> {
  const { id, ...patch } = parseInput(limitsInput, input);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findApiKey(tx, id);
    const set: PgUpdateSetSource<typeof apiKeys> = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (patch.spendLimitPeriod && patch.spendLimitPeriod !== before.spendLimitPeriod) {
      if (patch.spendLimitPeriod === 'monthly') {
        const [row] = await tx
          .select({ spent: sql<string>`coalesce(sum(${usageRecords.cost}), 0)::text` })
          .from(usageRecords)
          .where(and(eq(usageRecords.apiKeyId, id), gte(usageRecords.createdAt, sql`date_trunc('month', now())`)));
        set.periodSpent = row!.spent;
        set.periodStart = sql`date_trunc('month', now())`;
      } else {
        set.periodSpent = before.spentTotal;
        set.periodStart = before.createdAt;
      }
    }
    const [after] = await tx.update(apiKeys).set(set).where(eq(apiKeys.id, id)).returning();
    return {
      result: after!,
      audit: { action: 'setApiKeyLimits', targetType: 'api-key', targetId: id, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'api-key', id } }],
    };
  });
}
