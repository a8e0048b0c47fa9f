import DataLoader from 'dataloader';
import type { Db } from '../db/open-database.js';
import { type ApiKeyState, type PermissionRow as Permission, projectsApiKeys, projectsPermissions } from '../core/projects/project-queries.js';
import { type UsageTotals, usageTotalsByProject } from '../core/usage/usage-queries.js';

// Per-operation batching of the per-project fields: a console listing 200
// projects with their keys, permissions and usage summary makes three
// queries, not six hundred. One set per GraphQL operation, so nothing is
// cached across requests.

type KeyRow = Awaited<ReturnType<typeof projectsApiKeys>> extends Map<string, infer R> ? R : never;

/**
 * A loader whose keys are (variant, project id): the ids asked for in one
 * tick are fetched with one query per variant (a filter argument's value).
 */
function perProject<V>(fetch: (variant: string, projectIds: string[]) => Promise<Map<string, V>>) {
  return new DataLoader<string, V>(async (keys) => {
    const byVariant = new Map<string, string[]>();
    for (const key of keys) {
      const [variant, id] = JSON.parse(key) as [string, string];
      byVariant.set(variant, [...(byVariant.get(variant) ?? []), id]);
    }
    const results = new Map<string, V>();
    await Promise.all(
      [...byVariant].map(async ([variant, ids]) => {
        for (const [id, value] of await fetch(variant, ids)) results.set(JSON.stringify([variant, id]), value);
      }),
    );
    return keys.map((key) => results.get(key) ?? new Error(`nothing loaded for ${key}`));
  });
}

export interface Loaders {
  permissions(projectId: string): Promise<Permission[]>;
  apiKeys(projectId: string, state: ApiKeyState | null): Promise<KeyRow>;
  usageTotals(projectId: string, range: { from: Date | null; to: Date | null }): Promise<UsageTotals>;
}

export function createLoaders(db: Db): Loaders {
  const permissions = perProject<Permission[]>((_variant, ids) => projectsPermissions(db, ids));
  const apiKeys = perProject<KeyRow>((state, ids) => projectsApiKeys(db, ids, { state: (state || null) as ApiKeyState | null }));
  const usage = perProject<UsageTotals>((range, ids) => {
    const [from, to] = JSON.parse(range) as [string | null, string | null];
    return usageTotalsByProject(db, ids, { from: from ? new Date(from) : null, to: to ? new Date(to) : null });
  });
  return {
    permissions: (projectId) => permissions.load(JSON.stringify(['', projectId])),
    apiKeys: (projectId, state) => apiKeys.load(JSON.stringify([state ?? '', projectId])),
    usageTotals: (projectId, { from, to }) => usage.load(JSON.stringify([JSON.stringify([from?.toISOString() ?? null, to?.toISOString() ?? null]), projectId])),
  };
}
