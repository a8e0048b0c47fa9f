import { asc, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { modelRoutes, models } from '../../db/schema.js';

// The catalogue as stored, for operators: disabled models included (the
// request path reads Catalogue, in memory, which holds the enabled ones).

export type ModelRow = typeof models.$inferSelect;
export type ModelRouteRow = typeof modelRoutes.$inferSelect;
export interface ModelWithRoutes {
  model: ModelRow;
  routes: ModelRouteRow[];
}

/** One model with its routes by priority; inside a transaction too (the model actions read before they write). */
export async function findModel(db: DbOrTx, id: string): Promise<ModelWithRoutes | undefined> {
  const [model] = await db.select().from(models).where(eq(models.id, id));
  if (!model) return undefined;
  const routes = await db.select().from(modelRoutes).where(eq(modelRoutes.modelId, id)).orderBy(asc(modelRoutes.priority));
  return { model, routes };
}

export interface ModelListFilter {
  enabledOnly?: boolean | null;
  kind?: 'chat' | 'embedding' | null;
}

/** Models by id, each with its routes by priority. */
export async function listModels(db: Db, filter: ModelListFilter = {}): Promise<ModelWithRoutes[]> {
  const [rows, routes] = await Promise.all([db.select().from(models).orderBy(asc(models.id)), db.select().from(modelRoutes).orderBy(asc(modelRoutes.priority))]);
  return rows
    .filter((m) => (!filter.enabledOnly || m.enabled) && (!filter.kind || m.kind === filter.kind))
    .map((model) => ({ model, routes: routes.filter((r) => r.modelId === model.id) }));
}
