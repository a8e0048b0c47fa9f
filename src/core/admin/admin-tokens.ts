import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/open-database.js';
import { adminTokens } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import { newId, randomBase62 } from '../ids.js';
import { hashSecret } from '../keys/project-key.js';

export type AdminRole = 'admin' | 'viewer';

export interface Operator {
  tokenId: string;
  name: string;
  role: AdminRole;
}

export interface NewAdminToken {
  secret: string;
  operator: Operator;
}

const TOKEN_PREFIX = 'gwa_';

/** Operator tokens for the admin API, stored as sha256 only and looked up by hash. */
export class AdminTokens {
  readonly #cache = new LRUCache<string, Operator | 'unknown'>({ max: 1_000, ttl: 60_000 });
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    bus: EventBus,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'admin-tokens') this.#cache.clear();
    });
  }

  /** Creates a token; a given secret (ADMIN_TOKEN) is stored as its hash like any other. */
  async create(name: string, role: AdminRole, secret = `${TOKEN_PREFIX}${randomBase62(40)}`): Promise<NewAdminToken> {
    const id = newId('adm', 16);
    await this.db.insert(adminTokens).values({ id, name, role, tokenHash: hashSecret(secret), prefix: secret.slice(0, 8) });
    return { secret, operator: { tokenId: id, name, role } };
  }

  /** The operator a presented token belongs to, or undefined. */
  async verify(secret: string | undefined): Promise<Operator | undefined> {
    if (!secret || secret.length < 16) return undefined;
    const hash = hashSecret(secret);
    let op = this.#cache.get(hash);
    if (op === undefined) {
      const [row] = await this.db.select().from(adminTokens).where(eq(adminTokens.tokenHash, hash)).limit(1);
      op = row && !row.revokedAt ? { tokenId: row.id, name: row.name, role: row.role } : 'unknown';
      this.#cache.set(hash, op);
    }
    return op === 'unknown' ? undefined : op;
  }

  /** True when the given secret is already a stored token (ADMIN_TOKEN across restarts). */
  async exists(secret: string): Promise<boolean> {
    const rows = await this.db.select({ id: adminTokens.id }).from(adminTokens).where(eq(adminTokens.tokenHash, hashSecret(secret))).limit(1);
    return rows.length > 0;
  }

  close(): void {
    this.#unsubscribe();
  }
}
