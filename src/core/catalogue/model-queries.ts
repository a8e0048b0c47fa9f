import { asc } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { modelRoutes, models } from '../../db/schema.js';
import type { ModelWithRoutes } from '../admin/model-actions.js';

// The catalogue as stored, for operators: disabled models included (the
// request path reads Catalogue, in memory, which holds the enabled ones).

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
