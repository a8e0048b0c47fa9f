import { and, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { ledgerEntries, models, projects } from '../../db/schema.js';
import type { DbOrTx } from '../../db/open-database.js';
import { type ActionInput, idInput, nameInput, nonNegativeMoney, parseInput, perMinuteLimit, positiveMoney, moneyInput, reasonInput } from '../admin/admin-inputs.js';
import { auditedChange, type PendingEvent } from '../audit/audited-change.js';
import { changeBalance } from '../billing/ledger.js';
import { checkRedactPatterns } from '../explorer/redact-patterns.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { formatMoney, parseMoney } from '../money.js';
import { ALL_MODELS } from '../permissions/permission-store.js';
import { findProject, insertProjectRows, type ProjectRow, replaceModelPermissionRows } from './project-admin.js';

// Operator actions on projects, permissions and balances: validated, written
// with their audit entry in one transaction, then announced on the bus so
// every replica's caches drop what changed.

type Deps = Pick<Gateway, 'database' | 'bus'>;

const currency = z.string().trim().regex(/^[A-Z]{3}$/, 'must be a 3-letter currency code such as USD');

const createProjectInput = z.object({
  name: nameInput,
  initialBalance: nonNegativeMoney.nullish(),
  currency: currency.nullish(),
  rpmLimit: perMinuteLimit.optional(),
  tpmLimit: perMinuteLimit.optional(),
  models: z.array(idInput).max(1000).nullish(),
});

export async function createProjectAction(deps: Deps, actor: string, input: ActionInput<typeof createProjectInput>): Promise<ProjectRow> {
  const data = parseInput(createProjectInput, input);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const project = await insertProjectRows(tx, {
      name: data.name,
      actor,
      ...(data.initialBalance ? { initialBalance: data.initialBalance } : {}),
      ...(data.currency ? { currency: data.currency } : {}),
      rpmLimit: data.rpmLimit ?? null,
      tpmLimit: data.tpmLimit ?? null,
    });
    const events: PendingEvent[] = [{ topic: 'invalidate', payload: { kind: 'project', id: project.id } }];
    let permissions: string[] = [];
    if (data.models && data.models.length > 0) {
      await assertModelsExist(tx, data.models);
      permissions = (await replaceModelPermissionRows(tx, project.id, data.models)).after;
      events.push({ topic: 'invalidate', payload: { kind: 'permissions', projectId: project.id } });
    }
    return { result: project, audit: { action: 'createProject', targetType: 'project', targetId: project.id, before: null, after: { ...project, permissions } }, events };
  });
}

const updateProjectInput = z.object({
  id: idInput,
  name: nameInput.optional(),
  rpmLimit: perMinuteLimit.optional(),
  tpmLimit: perMinuteLimit.optional(),
  capturePayloads: z.boolean().nullish(),
  // Each pattern is checked by checkRedactPatterns, which names the bad one.
  redactPatterns: z.array(z.string()).max(1000).nullish(),
});

/**
 * Changes the fields given; a limit given as null is cleared, an absent one
 * stays. Payload capture and its redaction patterns are among them, so
 * turning capture on is in the audit log like any other change.
 */
export async function updateProjectAction(deps: Deps, actor: string, input: ActionInput<typeof updateProjectInput>): Promise<ProjectRow> {
  const { id, capturePayloads, redactPatterns, ...patch } = parseInput(updateProjectInput, input);
  const set: Record<string, unknown> = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  if (capturePayloads !== null && capturePayloads !== undefined) set.capturePayloads = capturePayloads;
  if (redactPatterns !== undefined) set.redactPatterns = checkRedactPatterns(redactPatterns ?? []);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findProject(tx, id, 'id');
    const [after] = await tx
      .update(projects)
      .set({ ...set, updatedAt: new Date() })
      .where(eq(projects.id, id))
      .returning();
    return {
      result: after!,
      audit: { action: 'updateProject', targetType: 'project', targetId: id, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'project', id } }],
    };
  });
}

/** Archives a project: its keys stop working at once; its rows and ledger stay. */
export async function archiveProjectAction(deps: Deps, actor: string, projectId: string): Promise<ProjectRow> {
  const id = parseInput(idInput, projectId, 'id');
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findProject(tx, id, 'id');
    const [after] = await tx.update(projects).set({ status: 'archived', updatedAt: new Date() }).where(eq(projects.id, id)).returning();
    return {
      result: after!,
      audit: { action: 'archiveProject', targetType: 'project', targetId: id, before, after },
      events: [{ topic: 'invalidate', payload: { kind: 'project', id } }],
    };
  });
}

async function assertModelsExist(tx: DbOrTx, ids: string[]): Promise<void> {
  const wanted = [...new Set(ids.map((m) => m.trim()))].filter((m) => m !== ALL_MODELS);
  if (wanted.length === 0) return;
  const found = await tx.select({ id: models.id }).from(models).where(inArray(models.id, wanted));
  const known = new Set(found.map((m) => m.id));
  const unknown = wanted.filter((m) => !known.has(m));
  if (unknown.length > 0) {
    throw new GatewayError('invalid_request', `Unknown model${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Use ids from the catalogue, or "*" for all.`, { param: 'models' });
  }
}

const setPermissionsInput = z.object({ projectId: idInput, models: z.array(idInput).max(1000) });

/** Replaces the models a project may use; `["*"]` = the whole catalogue, `[]` = none. */
export async function setModelPermissionsAction(deps: Deps, actor: string, input: ActionInput<typeof setPermissionsInput>): Promise<ProjectRow> {
  const data = parseInput(setPermissionsInput, input);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    await assertModelsExist(tx, data.models);
    const { before, after } = await replaceModelPermissionRows(tx, data.projectId, data.models);
    const project = await findProject(tx, data.projectId);
    return {
      result: project,
      audit: { action: 'setModelPermissions', targetType: 'project', targetId: data.projectId, before: { models: before }, after: { models: after } },
      events: [{ topic: 'invalidate', payload: { kind: 'permissions', projectId: data.projectId } }],
    };
  });
}

export interface BalanceChangeResult {
  projectId: string;
  balance: bigint;
  reserved: bigint;
  ledgerEntry: typeof ledgerEntries.$inferSelect;
}

const creditInput = z.object({ projectId: idInput, amount: positiveMoney, reason: reasonInput });
const adjustInput = z.object({
  projectId: idInput,
  amount: moneyInput.refine((v) => /[1-9]/.test(v), 'must not be zero'),
  reason: reasonInput,
});

/** Adds money to a project (a top-up), with its ledger entry. */
export async function creditBalanceAction(deps: Deps, actor: string, input: ActionInput<typeof creditInput>): Promise<BalanceChangeResult> {
  const data = parseInput(creditInput, input);
  return balanceChange(deps, actor, 'creditBalance', 'credit', data);
}

/** Corrects a balance either way (signed amount), with its ledger entry; never below what is reserved. */
export async function adjustBalanceAction(deps: Deps, actor: string, input: ActionInput<typeof adjustInput>): Promise<BalanceChangeResult> {
  const data = parseInput(adjustInput, input);
  return balanceChange(deps, actor, 'adjustBalance', 'adjustment', data);
}

async function balanceChange(
  deps: Deps,
  actor: string,
  action: string,
  kind: 'credit' | 'adjustment',
  data: { projectId: string; amount: string; reason: string },
): Promise<BalanceChangeResult> {
  const amount = parseMoney(data.amount);
  return auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await findProject(tx, data.projectId);
    const after = await changeBalance(tx, { projectId: data.projectId, amount, kind, reason: data.reason, actor });
    // changeBalance does not return its entry; inside this transaction the newest
    // entry of this project with these values is the one it just wrote.
    const [entry] = await tx
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.projectId, data.projectId), eq(ledgerEntries.kind, kind), eq(ledgerEntries.actor, actor), eq(ledgerEntries.balanceAfter, formatMoney(after.balance))))
      .orderBy(desc(ledgerEntries.createdAt))
      .limit(1);
    const balance = formatMoney(after.balance);
    const reserved = formatMoney(after.reserved);
    return {
      result: { projectId: data.projectId, balance: after.balance, reserved: after.reserved, ledgerEntry: entry! },
      audit: {
        action,
        targetType: 'project',
        targetId: data.projectId,
        before: { balance: formatMoney(parseMoney(before.balance)) },
        after: { balance, amount: formatMoney(amount), reason: data.reason, ledgerEntryId: entry?.id ?? null },
      },
      events: [{ topic: 'balance', payload: { projectId: data.projectId, balance, reserved } }],
    };
  });
}
