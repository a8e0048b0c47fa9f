import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/open-database.js';
import { projectModelPermissions } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';

export const ALL_MODELS = '*';

/** Which catalogue models each project may call, cached per project. */
export class PermissionStore {
  readonly #cache = new LRUCache<string, ReadonlySet<string>>({ max: 10_000, ttl: 60_000 });
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    bus: EventBus,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'permissions') this.#cache.delete(event.projectId);
    });
  }

  async allowed(projectId: string): Promise<ReadonlySet<string>> {
    let set = this.#cache.get(projectId);
    if (!set) {
      const rows = await this.db
        .select({ modelId: projectModelPermissions.modelId })
        .from(projectModelPermissions)
        .where(eq(projectModelPermissions.projectId, projectId));
      set = new Set(rows.map((r) => r.modelId));
      this.#cache.set(projectId, set);
    }
    return set;
  }

  async isAllowed(projectId: string, modelId: string): Promise<boolean> {
    const set = await this.allowed(projectId);
    return set.has(ALL_MODELS) || set.has(modelId);
  }

  close(): void {
    this.#unsubscribe();
  }
}
