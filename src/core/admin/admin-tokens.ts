import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { adminTokens } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import { newId, randomBase62 } from '../../contract/ids.js';
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

export type AdminTokenRow = typeof adminTokens.$inferSelect;

/** Stores a token as its hash; a given secret (ADMIN_TOKEN) is stored like any other. */
export async function insertAdminTokenRow(
  db: DbOrTx,
  name: string,
  role: AdminRole,
  secret = `${TOKEN_PREFIX}${randomBase62(40)}`,
): Promise<{ secret: string; row: AdminTokenRow }> {
  const [row] = await db
    .insert(adminTokens)
    .values({ id: newId('adm', 16), name, role, tokenHash: hashSecret(secret), prefix: secret.slice(0, 8) })
    .returning();
  return { secret, row: row! };
}

export async function findAdminToken(db: DbOrTx, id: string): Promise<AdminTokenRow | undefined> {
  const [row] = await db.select().from(adminTokens).where(eq(adminTokens.id, id));
  return row;
}

export function listAdminTokens(db: DbOrTx): Promise<AdminTokenRow[]> {
  return db.select().from(adminTokens).orderBy(asc(adminTokens.createdAt), asc(adminTokens.id));
}

/** Active admin-role tokens other than the given one: revoking the last one would lock every operator out. */
export async function otherActiveAdmins(db: DbOrTx, exceptId: string): Promise<number> {
  const rows = await db
    .select({ id: adminTokens.id })
    .from(adminTokens)
    .where(and(eq(adminTokens.role, 'admin'), isNull(adminTokens.revokedAt), ne(adminTokens.id, exceptId)));
  return rows.length;
}

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
  async create(name: string, role: AdminRole, secret?: string): Promise<NewAdminToken> {
    const created = await insertAdminTokenRow(this.db, name, role, secret);
    return { secret: created.secret, operator: { tokenId: created.row.id, name, role } };
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
