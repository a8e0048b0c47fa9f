import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { models } from '../../db/schema.js';
import { auditedChange } from '../audit/audited-change.js';
import { findModel, type ModelWithRoutes } from '../catalogue/model-queries.js';
import { unstorablePrices } from '../catalogue/model-prices.js';
import { upsertModel } from '../catalogue/upsert-model.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { identifierText } from '../../contract/text-limits.js';
import { type ActionInput, idInput, nameInput, parseInput, priceInput, oneOf } from './admin-inputs.js';

type Deps = Pick<Gateway, 'database' | 'bus' | 'catalogue' | 'providers'>;


const modelId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/, 'must be 1-128 letters, digits or . _ : / @ - and start with a letter or digit');
const positiveInt = z.number().int('must be a whole number').positive('must be positive');

// Built per call: a route names one of the gateway's providers, injected at its start.
const routeInput = (providers: readonly string[]) =>
  z.object({
    provider: oneOf(providers),
    upstreamModel: z.string().trim().pipe(identifierText()),
    priority: z.number().int('must be a whole number').min(-1000).max(1000).nullish(),
    weight: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000).nullish(),
  });

const upsertInput = (providers: readonly string[]) =>
  z.object({
    id: modelId,
    kind: z.enum(['chat', 'embedding']),
    ownedBy: nameInput,
    inputPrice: priceInput,
    outputPrice: priceInput,
    cachedInputPrice: priceInput.nullish(),
    cacheWritePrice: priceInput.nullish(),
    cacheWrite1hPrice: priceInput.nullish(),
    contextWindow: positiveInt.nullish(),
    maxOutputTokens: positiveInt.nullish(),
    dimensions: positiveInt.nullish(),
    fallbacks: z.array(modelId).max(10).nullish(),
    capabilities: z
      .object({ tools: z.boolean().nullish(), vision: z.boolean().nullish(), reasoning: z.boolean().nullish(), webSearch: z.boolean().nullish() })
      .nullish(),
    enabled: z.boolean().nullish(),
    routes: z.array(routeInput(providers)).min(1, 'a model needs at least one route').max(20),
  })
  .superRefine((m, ctx) => {
    // An unset cache-write price is 1.25 × input: refused, not rounded, when that needs more than 6 decimals.
    const problem = unstorablePrices(m);
    if (problem) ctx.addIssue({ code: 'custom', path: ['cacheWritePrice'], message: problem });
  });

/**
 * Creates a model or replaces it whole (prices, routes, fallbacks...), then
 * waits for this replica's catalogue to reload so the very next request sees
 * it; other replicas reload on the invalidation event.
 */
export async function upsertModelAction(deps: Deps, actor: string, input: ActionInput<ReturnType<typeof upsertInput>>): Promise<ModelWithRoutes> {
  const data = parseInput(upsertInput(deps.providers.map((p) => p.id)), input);
  const fallbacks = [...new Set(data.fallbacks ?? [])];
  if (fallbacks.includes(data.id)) throw new GatewayError('invalid_request', `Invalid value for 'fallbacks': a model cannot fall back to itself.`, { param: 'fallbacks' });
  const capabilities = Object.fromEntries(Object.entries(data.capabilities ?? {}).filter(([, v]) => typeof v === 'boolean'));
  const result = await auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    for (const fallback of fallbacks) {
      if (!(await findModel(tx, fallback))) {
        throw new GatewayError('invalid_request', `Invalid value for 'fallbacks': unknown model '${fallback}'.`, { param: 'fallbacks' });
      }
    }
    const before = (await findModel(tx, data.id)) ?? null;
    await upsertModel(tx, {
      id: data.id,
      kind: data.kind,
      ownedBy: data.ownedBy,
      inputPrice: data.inputPrice,
      outputPrice: data.outputPrice,
      ...(data.cachedInputPrice != null ? { cachedInputPrice: data.cachedInputPrice } : {}),
      ...(data.cacheWritePrice != null ? { cacheWritePrice: data.cacheWritePrice } : {}),
      ...(data.cacheWrite1hPrice != null ? { cacheWrite1hPrice: data.cacheWrite1hPrice } : {}),
      ...(data.contextWindow != null ? { contextWindow: data.contextWindow } : {}),
      ...(data.maxOutputTokens != null ? { maxOutputTokens: data.maxOutputTokens } : {}),
      ...(data.dimensions != null ? { dimensions: data.dimensions } : {}),
      fallbacks,
      capabilities,
      enabled: data.enabled ?? true,
      routes: data.routes.map((r, i) => ({ provider: r.provider, upstreamModel: r.upstreamModel, priority: r.priority ?? i, weight: r.weight ?? 1 })),
    });
    const after = (await findModel(tx, data.id))!;
    return {
      result: after,
      audit: { action: 'upsertModel', targetType: 'model', targetId: data.id, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'catalogue' } }],
    };
  });
  await deps.catalogue.reload();
  return result;
}

/** Removes a model and its routes; refused while another model names it as a fallback. */
export async function deleteModelAction(deps: Deps, actor: string, id: string): Promise<ModelWithRoutes> {
  const modelIdValue = parseInput(idInput, id, 'id');
  const result = await auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findModel(tx, modelIdValue);
    if (!before) throw new GatewayError('not_found', `Model ${modelIdValue} not found.`, { param: 'id' });
    const dependents = (await tx.select({ id: models.id, fallbacks: models.fallbacks }).from(models)).filter((m) => m.fallbacks.includes(modelIdValue));
    if (dependents.length > 0) {
      throw new GatewayError('invalid_request', `Model ${modelIdValue} is a fallback of ${dependents.map((m) => m.id).join(', ')}; remove it there first.`, { param: 'id' });
    }
    await tx.delete(models).where(eq(models.id, modelIdValue));
    return {
      result: before,
      audit: { action: 'deleteModel', targetType: 'model', targetId: modelIdValue, before, after: null },
      events: [{ topic: 'invalidate', payload: { kind: 'catalogue' } }],
    };
  });
  await deps.catalogue.reload();
  return result;
}
