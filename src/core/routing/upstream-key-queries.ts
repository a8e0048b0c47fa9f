import { asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { upstreamKeys } from '../../db/schema.js';
import type { UpstreamKeyRow } from './upstream-key-admin.js';

// Read side of the upstream key pool as operators see it (the dispatcher
// reads its own copy from UpstreamPool, in memory).

/** The pool, optionally one provider's keys, by provider then priority tier. */
export function listUpstreamKeys(db: Db, provider?: string | null): Promise<UpstreamKeyRow[]> {
  const order = [asc(upstreamKeys.provider), asc(upstreamKeys.priority), asc(upstreamKeys.createdAt)] as const;
  return provider
    ? db.select().from(upstreamKeys).where(eq(upstreamKeys.provider, provider)).orderBy(...order)
    : db.select().from(upstreamKeys).orderBy(...order);
}

export async function upstreamKeyById(db: Db, id: string): Promise<UpstreamKeyRow | undefined> {
  const [row] = await db.select().from(upstreamKeys).where(eq(upstreamKeys.id, id));
  return row;
}

export type UpstreamKeyIdentity = Pick<UpstreamKeyRow, 'id' | 'provider' | 'label' | 'status'>;

/** Who each key is and whether an operator switched it off: what a health view needs, by provider then id. */
export function upstreamKeyIdentities(db: Db, provider?: string | null): Promise<UpstreamKeyIdentity[]> {
  const columns = { id: upstreamKeys.id, provider: upstreamKeys.provider, label: upstreamKeys.label, status: upstreamKeys.status };
  return provider
    ? db.select(columns).from(upstreamKeys).where(eq(upstreamKeys.provider, provider)).orderBy(asc(upstreamKeys.id))
    : db.select(columns).from(upstreamKeys).orderBy(asc(upstreamKeys.provider), asc(upstreamKeys.id));
}
