import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/open-database.js';
import { modelRoutes, models } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../../contract/ids.js';
import type { CatalogueSeed } from './default-catalogue.js';
import { unstorablePrices } from './model-prices.js';

export type UpsertModelInput = Omit<CatalogueSeed, 'routes'> & {
  routes: Array<{ provider: string; upstreamModel: string; priority?: number; weight?: number }>;
  enabled?: boolean;
};

/**
 * Creates or replaces a model with its routes in one transaction. Refuses
 * an unset cache-write price whose default could not be charged exactly
 * (money.ts, defaultCacheWritePrice).
 */
export async function upsertModel(db: DbOrTx, input: UpsertModelInput, bus?: EventBus): Promise<void> {
  const unstorable = unstorablePrices(input);
  if (unstorable) throw new RangeError(`model ${input.id}: ${unstorable}`);
  const values = {
    kind: input.kind,
    ownedBy: input.ownedBy,
    inputPrice: input.inputPrice,
    outputPrice: input.outputPrice,
    cachedInputPrice: input.cachedInputPrice ?? null,
    cacheWritePrice: input.cacheWritePrice ?? null,
    cacheWrite1hPrice: input.cacheWrite1hPrice ?? null,
    contextWindow: input.contextWindow ?? null,
    maxOutputTokens: input.maxOutputTokens ?? null,
    dimensions: input.dimensions ?? null,
    fallbacks: input.fallbacks ?? [],
    capabilities: input.capabilities ?? {},
    enabled: input.enabled ?? true,
    updatedAt: new Date(),
  };
  await db.transaction(async (tx) => {
    await tx.insert(models).values({ id: input.id, ...values }).onConflictDoUpdate({ target: models.id, set: values });
    await tx.delete(modelRoutes).where(eq(modelRoutes.modelId, input.id));
    if (input.routes.length > 0) {
      await tx.insert(modelRoutes).values(
        input.routes.map((r, i) => ({ id: newId('rte', 16), modelId: input.id, provider: r.provider, upstreamModel: r.upstreamModel, priority: r.priority ?? i, weight: r.weight ?? 1 })),
      );
    }
  });
  bus?.publish('invalidate', { kind: 'catalogue' });
}
