import { asc } from 'drizzle-orm';
import type { Db } from '../../src/db/open-database.js';
import { adminTokens, apiKeys, auditLog, ledgerEntries, models, projectModelPermissions, projects, upstreamKeys, usageRecords } from '../../src/db/schema.js';

/** Every row that money, keys, the catalogue or the audit trail live in, in a stable order. */
export async function snapshot(db: Db) {
  const [projectRows, keyRows, ledger, usage, audit, upstream, catalogue, permissions, tokens] = await Promise.all([
    db.select({ id: projects.id, name: projects.name, balance: projects.balance, reserved: projects.reserved, status: projects.status }).from(projects).orderBy(asc(projects.id)),
    db
      .select({ id: apiKeys.id, name: apiKeys.name, spentTotal: apiKeys.spentTotal, periodSpent: apiKeys.periodSpent, reserved: apiKeys.reserved, spendLimit: apiKeys.spendLimit, revokedAt: apiKeys.revokedAt })
      .from(apiKeys)
      .orderBy(asc(apiKeys.id)),
    db.select().from(ledgerEntries).orderBy(asc(ledgerEntries.id)),
    db.select().from(usageRecords).orderBy(asc(usageRecords.id)),
    db.select({ id: auditLog.id }).from(auditLog).orderBy(asc(auditLog.id)),
    db.select({ id: upstreamKeys.id, label: upstreamKeys.label, status: upstreamKeys.status, secretLast4: upstreamKeys.secretLast4 }).from(upstreamKeys).orderBy(asc(upstreamKeys.id)),
    db.select({ id: models.id, updatedAt: models.updatedAt }).from(models).orderBy(asc(models.id)),
    db.select().from(projectModelPermissions).orderBy(asc(projectModelPermissions.projectId), asc(projectModelPermissions.modelId)),
    db.select({ id: adminTokens.id, revokedAt: adminTokens.revokedAt }).from(adminTokens).orderBy(asc(adminTokens.id)),
  ]);
  return { projectRows, keyRows, ledger, usage, audit, upstream, catalogue, permissions, tokens };
}

export type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/**
 * What refused requests may have added: usage rows of their refusal
 * (status `rejected`, nothing counted or charged). Everything else must be
 * exactly as before, the rows that were there included.
 */
export function refusalRowsAdded(before: Snapshot, after: Snapshot) {
  const known = new Set(before.usage.map((r) => r.id));
  const added = after.usage.filter((r) => !known.has(r.id));
  const stillThere = after.usage.filter((r) => known.has(r.id));
  return { added, rest: { ...after, usage: stillThere } };
}
