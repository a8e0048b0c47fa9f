import { eq } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { apiKeys, projectModelPermissions, projects } from '../../db/schema.js';
import { changeBalance } from '../billing/ledger.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../ids.js';
import { parseMoney } from '../money.js';
import { generateProjectKey, type KeyMode } from '../keys/project-key.js';

export interface CreateProjectInput {
  name: string;
  initialBalance?: string;
  currency?: string;
  actor: string;
}

export async function createProject(db: Db, input: CreateProjectInput): Promise<typeof projects.$inferSelect> {
  const id = newId('prj', 16);
  const amount = input.initialBalance ? parseMoney(input.initialBalance) : 0n;
  if (amount < 0n) throw new GatewayError('invalid_request', 'initialBalance must not be negative.', { param: 'initialBalance' });
  await db.insert(projects).values({ id, name: input.name, ...(input.currency ? { currency: input.currency } : {}) });
  if (amount > 0n) {
    await changeBalance(db, { projectId: id, amount, kind: 'credit', reason: 'initial balance', actor: input.actor });
  }
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row!;
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

/** Creates a key and returns its secret: the only time the secret exists outside the client. */
export async function createApiKey(db: Db, bus: EventBus, input: CreateApiKeyInput) {
  const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.id, input.projectId));
  if (!project) throw new GatewayError('not_found', `Project ${input.projectId} not found.`, { param: 'projectId' });
  const key = generateProjectKey(input.mode);
  const [row] = await db
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
  // A cached "unknown key" answer for this secret must not outlive its creation.
  bus.publish('invalidate', { kind: 'api-key', id: key.id });
  return { secret: key.secret, apiKey: row! };
}

export async function revokeApiKey(db: Db, bus: EventBus, keyId: string) {
  const [row] = await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, keyId)).returning();
  if (!row) throw new GatewayError('not_found', `API key ${keyId} not found.`, { param: 'id' });
  bus.publish('invalidate', { kind: 'api-key', id: keyId });
  return row;
}

/** Replaces a project's permitted models; `["*"]` permits the whole catalogue. */
export async function setModelPermissions(db: Db, bus: EventBus, projectId: string, models: string[]): Promise<void> {
  const unique = [...new Set(models.map((m) => m.trim()).filter(Boolean))];
  await db.transaction(async (tx) => {
    const [project] = await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId));
    if (!project) throw new GatewayError('not_found', `Project ${projectId} not found.`, { param: 'projectId' });
    await tx.delete(projectModelPermissions).where(eq(projectModelPermissions.projectId, projectId));
    if (unique.length > 0) await tx.insert(projectModelPermissions).values(unique.map((modelId) => ({ projectId, modelId })));
  });
  bus.publish('invalidate', { kind: 'permissions', projectId });
}
