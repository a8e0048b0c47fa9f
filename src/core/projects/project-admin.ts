import { asc, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { apiKeys, projectModelPermissions, projects } from '../../db/schema.js';
import { changeBalance } from '../billing/ledger.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../../contract/ids.js';
import { parseMoney } from '../money.js';
import { generateProjectKey, type KeyMode } from '../keys/project-key.js';

// The writes behind project administration. Each `…Rows` function works on
// a transaction handle and publishes nothing, so a caller can put several
// writes and an audit entry in one transaction and publish after COMMIT (see
// core/projects/project-actions.ts). The functions without the suffix are
// the one-shot forms used at bootstrap and in tests.

export type ProjectRow = typeof projects.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface CreateProjectInput {
  name: string;
  initialBalance?: string;
  currency?: string;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  actor: string;
}

/** Inserts a project and credits its initial balance through the ledger. */
export async function insertProjectRows(tx: DbOrTx, input: CreateProjectInput): Promise<ProjectRow> {
  const id = newId('prj', 16);
  const amount = input.initialBalance ? parseMoney(input.initialBalance) : 0n;
  if (amount < 0n) throw new GatewayError('invalid_request', 'initialBalance must not be negative.', { param: 'initialBalance' });
  await tx.insert(projects).values({
    id,
    name: input.name,
    ...(input.currency ? { currency: input.currency } : {}),
    rpmLimit: input.rpmLimit ?? null,
    tpmLimit: input.tpmLimit ?? null,
  });
  if (amount > 0n) {
    await changeBalance(tx, { projectId: id, amount, kind: 'credit', reason: 'initial balance', actor: input.actor });
  }
  const [row] = await tx.select().from(projects).where(eq(projects.id, id));
  return row!;
}

/** Creates a project with its initial credit, atomically. */
export async function createProject(db: Db, input: CreateProjectInput): Promise<ProjectRow> {
  return db.transaction((tx) => insertProjectRows(tx, input));
}

export async function findProject(db: DbOrTx, projectId: string, param = 'projectId'): Promise<ProjectRow> {
  const [row] = await db.select().from(projects).where(eq(projects.id, projectId));
  if (!row) throw new GatewayError('not_found', `Project ${projectId} not found.`, { param });
  return row;
}

export interface CreateApiKeyInput {
  projectId: string;
  mode: KeyMode;
  name?: string;
  spendLimit?: string | null;
  spendLimitPeriod?: 'total' | 'monthly';
  expiresAt?: Date | null;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
}

export interface NewApiKey {
  /** The whole key: returned once, never stored. */
  secret: string;
  apiKey: ApiKeyRow;
}

export async function insertApiKeyRows(tx: DbOrTx, input: CreateApiKeyInput): Promise<NewApiKey> {
  const project = await findProject(tx, input.projectId);
  if (project.status !== 'active') {
    throw new GatewayError('invalid_request', `Project ${input.projectId} is archived; its keys would not work.`, { param: 'projectId' });
  }
  const key = generateProjectKey(input.mode);
  const [row] = await tx
    .insert(apiKeys)
    .values({
      id: key.id,
      projectId: input.projectId,
      name: input.name ?? '',
      mode: key.mode,
      keyHash: key.keyHash,
      prefix: key.prefix,
      last4: key.last4,
      spendLimit: input.spendLimit ?? null,
      spendLimitPeriod: input.spendLimitPeriod ?? 'total',
      expiresAt: input.expiresAt ?? null,
      rpmLimit: input.rpmLimit ?? null,
      tpmLimit: input.tpmLimit ?? null,
    })
    .returning();
  return { secret: key.secret, apiKey: row! };
}

/** Creates a key and returns its secret: the only time the secret exists outside the client. */
export async function createApiKey(db: Db, bus: EventBus, input: CreateApiKeyInput): Promise<NewApiKey> {
  const created = await insertApiKeyRows(db, input);
  // A cached "unknown key" answer for this secret must not outlive its creation.
  bus.publish('invalidate', { kind: 'api-key', id: created.apiKey.id });
  return created;
}

export async function findApiKey(db: DbOrTx, keyId: string, param = 'id'): Promise<ApiKeyRow> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
  if (!row) throw new GatewayError('not_found', `API key ${keyId} not found.`, { param });
  return row;
}

/** Revokes a key; revoking an already revoked key keeps its first revocation time. */
export async function revokeApiKeyRows(tx: DbOrTx, keyId: string): Promise<{ before: ApiKeyRow; after: ApiKeyRow }> {
  const before = await findApiKey(tx, keyId);
  if (before.revokedAt) return { before, after: before };
  const [after] = await tx.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId)).returning();
  return { before, after: after! };
}

export async function revokeApiKey(db: Db, bus: EventBus, keyId: string): Promise<ApiKeyRow> {
  const { after } = await revokeApiKeyRows(db, keyId);
  bus.publish('invalidate', { kind: 'api-key', id: keyId });
  return after;
}

export async function permittedModels(db: DbOrTx, projectId: string): Promise<string[]> {
  const rows = await db
    .select({ modelId: projectModelPermissions.modelId })
    .from(projectModelPermissions)
    .where(eq(projectModelPermissions.projectId, projectId))
    .orderBy(asc(projectModelPermissions.modelId));
  return rows.map((r) => r.modelId);
}

/** Replaces a project's permitted models; `["*"]` permits the whole catalogue. */
export async function replaceModelPermissionRows(tx: DbOrTx, projectId: string, models: string[]): Promise<{ before: string[]; after: string[] }> {
  const unique = [...new Set(models.map((m) => m.trim()).filter(Boolean))].sort();
  await findProject(tx, projectId);
  const before = await permittedModels(tx, projectId);
  await tx.delete(projectModelPermissions).where(eq(projectModelPermissions.projectId, projectId));
  if (unique.length > 0) await tx.insert(projectModelPermissions).values(unique.map((modelId) => ({ projectId, modelId })));
  return { before, after: unique };
}

export async function setModelPermissions(db: Db, bus: EventBus, projectId: string, models: string[]): Promise<void> {
  await db.transaction((tx) => replaceModelPermissionRows(tx, projectId, models));
  bus.publish('invalidate', { kind: 'permissions', projectId });
}
