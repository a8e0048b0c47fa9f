import { and, desc, eq, getTableColumns, gte, lt, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { auditLog } from '../../db/schema.js';
import { newId } from '../../contract/ids.js';
import { cursorAt, keysetPage, type PageArgs } from '../admin/keyset-page.js';

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditEntry {
  /** What was done, named like the mutation: `createApiKey`, `creditBalance`. */
  action: string;
  targetType: 'project' | 'api-key' | 'model' | 'upstream-key' | 'admin-token';
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

// Fields that hold a secret or what a secret can be checked against. They are
// replaced, not dropped, so the entry still shows that they were there.
const SECRET_FIELDS = new Set(['secret', 'secretCiphertext', 'keyHash', 'tokenHash', 'apiKey', 'password', 'token']);
export const REDACTED = '[redacted]';

/** A deep copy fit for the audit log: secrets replaced, dates as ISO strings, bigints as decimal strings. */
export function redact(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_FIELDS.has(key) && typeof inner === 'string' ? REDACTED : redact(inner);
    }
    return out;
  }
  return value;
}

export async function writeAudit(db: DbOrTx, actor: string, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    id: newId('aud'),
    actor,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: redact(entry.before),
    after: redact(entry.after),
  });
}

export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export function listAuditLog(db: Db, filter: AuditFilter, page: PageArgs) {
  const conditions: SQL[] = [];
  if (filter.actor) conditions.push(eq(auditLog.actor, filter.actor));
  if (filter.action) conditions.push(eq(auditLog.action, filter.action));
  if (filter.targetType) conditions.push(eq(auditLog.targetType, filter.targetType));
  if (filter.targetId) conditions.push(eq(auditLog.targetId, filter.targetId));
  if (filter.from) conditions.push(gte(auditLog.createdAt, filter.from));
  if (filter.to) conditions.push(lt(auditLog.createdAt, filter.to));
  return keysetPage(page, auditLog, (after, limit) =>
    db
      .select({ ...getTableColumns(auditLog), cursorAt: cursorAt(auditLog.createdAt) })
      .from(auditLog)
      .where(and(...conditions, after))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(limit),
  );
}
