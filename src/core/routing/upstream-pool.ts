import { eq } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { upstreamKeys } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { SecretBox } from '../secrets/secret-box.js';

export interface PoolKey {
  id: string;
  provider: string;
  label: string;
  baseUrl: string | null;
  /** Decrypted only in memory, never logged. */
  apiKey: string;
  weight: number;
  priority: number;
  rpmLimit: number | null;
  tpmLimit: number | null;
  models: string[] | null;
  /** When an operator last changed the key (ms): health from before then is forgotten, on every replica. */
  updatedAt: number;
}

/**
 * The active upstream keys, decrypted once per load and held in memory.
 * Reloaded on an `upstream-keys` invalidation event from any replica.
 */
export class UpstreamPool {
  #byProvider = new Map<string, PoolKey[]>();
  #loading: Promise<void> | undefined;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    bus: EventBus,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'upstream-keys') void this.reload();
    });
  }

  async reload(): Promise<void> {
    const load = (async () => {
      const rows = await this.db.select().from(upstreamKeys).where(eq(upstreamKeys.status, 'active'));
      const next = new Map<string, PoolKey[]>();
      for (const row of rows) {
        const key: PoolKey = {
          id: row.id,
          provider: row.provider,
          label: row.label,
          baseUrl: row.baseUrl,
          apiKey: this.secrets.decrypt(row.secretCiphertext),
          weight: row.weight,
          priority: row.priority,
          rpmLimit: row.rpmLimit,
          tpmLimit: row.tpmLimit,
          models: row.models,
          updatedAt: row.updatedAt.getTime(),
        };
        const list = next.get(row.provider) ?? [];
        list.push(key);
        next.set(row.provider, list);
      }
      this.#byProvider = next;
    })();
    this.#loading = load;
    await load;
  }

  async ready(): Promise<void> {
    await (this.#loading ?? this.reload());
  }

  /** Keys of a provider that may serve an upstream model. */
  keysFor(provider: string, upstreamModel: string): PoolKey[] {
    const keys = this.#byProvider.get(provider) ?? [];
    return keys.filter((k) => !k.models || k.models.length === 0 || k.models.includes(upstreamModel));
  }

  close(): void {
    this.#unsubscribe();
  }
}
