import { z } from 'zod';
import { auditedChange } from '../audit/audited-change.js';
import { GatewayError } from '../errors.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import type { Database } from '../../db/open-database.js';
import type { EventBus } from '../events/event-bus.js';
import type { HealthTracker } from '../health/health-tracker.js';
import type { UpstreamPool } from '../routing/upstream-pool.js';
import type { SecretBox } from '../secrets/secret-box.js';
import {
  deleteUpstreamKeyRow,
  insertUpstreamKeyRow,
  updateUpstreamKeyRow,
  type UpstreamKeyPatch,
  type UpstreamKeyRow,
} from '../routing/upstream-key-admin.js';
import { baseUrlProblem, maskBaseUrl } from '../routing/upstream-base-url.js';
import { hostRefusal, type UpstreamHostPolicy } from '../routing/upstream-host-policy.js';
import { identifierText, nameText, secretText, TEXT_LIMITS } from '../../contract/text-limits.js';
import { type ActionInput, idInput, nameInput, parseInput, perMinuteLimit, oneOf } from './admin-inputs.js';

// Operator actions on the pool of upstream provider keys. The secret is write
// only: it is encrypted before the insert, kept out of the audit entry, and
// no result carries it. After each change this replica's pool reloads before
// the action returns; other replicas reload on the invalidation event.

/** The gateway's parts these actions use, named rather than picked from Gateway: the gateway itself disables rejected keys here. */
interface Deps {
  database: Database;
  bus: EventBus;
  secrets: SecretBox;
  pool: UpstreamPool;
  health: HealthTracker;
  upstreamHosts: UpstreamHostPolicy;
  providers: readonly ProviderInfo[];
}

const secretInput = secretText();
const baseUrlInput = z
  .string()
  .trim()
  .max(TEXT_LIMITS.url, `must be at most ${TEXT_LIMITS.url} characters`)
  .superRefine((s, ctx) => {
    const problem = baseUrlProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * The host policy on the base URL's host as written (a name is resolved only
 * when a call connects, where the policy is checked again on the address), so
 * an operator hears at once of a base URL no call could reach.
 */
function assertHostAllowed(policy: UpstreamHostPolicy, baseUrl: string | null | undefined): void {
  if (!baseUrl) return;
  const reason = hostRefusal(policy, new URL(baseUrl).hostname);
  if (reason) throw new GatewayError('invalid_request', `Invalid value for 'baseUrl': ${reason}.`, { param: 'baseUrl' });
}

/** A row as the audit log keeps it: a base URL saved before the URL rules may hold credentials. */
const audited = (row: UpstreamKeyRow): UpstreamKeyRow => ({ ...row, baseUrl: maskBaseUrl(row.baseUrl) });
const weight = z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000);
const priority = z.number().int('must be a whole number').min(-1000).max(1000);
const upstreamModels = z.array(z.string().trim().pipe(identifierText())).max(500).nullable();

// Built per call: the providers are the gateway's, injected at its start.
const addInput = (providers: readonly string[]) =>
  z.object({
    provider: oneOf(providers),
    label: nameInput,
    secret: secretInput,
    baseUrl: baseUrlInput.nullish(),
    weight: weight.nullish(),
    priority: priority.nullish(),
    rpmLimit: perMinuteLimit.optional(),
    tpmLimit: perMinuteLimit.optional(),
    models: upstreamModels.optional(),
  });

const updateInput = z.object({
  id: idInput,
  label: nameInput.optional(),
  secret: secretInput.optional(),
  baseUrl: baseUrlInput.nullable().optional(),
  weight: weight.optional(),
  priority: priority.optional(),
  rpmLimit: perMinuteLimit.optional(),
  tpmLimit: perMinuteLimit.optional(),
  models: upstreamModels.optional(),
});

export async function addUpstreamKeyAction(deps: Deps, actor: string, input: ActionInput<ReturnType<typeof addInput>>): Promise<UpstreamKeyRow> {
  const data = parseInput(addInput(deps.providers.map((p) => p.id)), input);
  assertHostAllowed(deps.upstreamHosts, data.baseUrl);
  const row = await auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const created = await insertUpstreamKeyRow(tx, deps.secrets, deps.providers, {
      provider: data.provider,
      label: data.label,
      secret: data.secret,
      baseUrl: data.baseUrl ?? null,
      weight: data.weight ?? 1,
      priority: data.priority ?? 0,
      rpmLimit: data.rpmLimit ?? null,
      tpmLimit: data.tpmLimit ?? null,
      models: data.models && data.models.length > 0 ? data.models : null,
    });
    return {
      result: created,
      audit: { action: 'addUpstreamKey', targetType: 'upstream-key', targetId: created.id, before: null, after: created },
      events: [{ topic: 'invalidate', payload: { kind: 'upstream-keys' } }],
    };
  });
  await deps.pool.reload();
  return row;
}

async function change(deps: Deps, actor: string, action: string, id: string, patch: UpstreamKeyPatch): Promise<UpstreamKeyRow> {
  const row = await auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const { before, after } = await updateUpstreamKeyRow(tx, deps.secrets, deps.providers, id, patch);
    return {
      result: after,
      audit: { action, targetType: 'upstream-key', targetId: id, before: audited(before), after: audited(after) },
      events: [{ topic: 'invalidate', payload: { kind: 'upstream-keys' } }],
    };
  });
  await deps.pool.reload();
  return row;
}

/** Edits a key (and rotates its secret when one is given); its health history starts over. */
export async function updateUpstreamKeyAction(deps: Deps, actor: string, input: ActionInput<typeof updateInput>): Promise<UpstreamKeyRow> {
  const { id, ...patch } = parseInput(updateInput, input);
  assertHostAllowed(deps.upstreamHosts, patch.baseUrl);
  const row = await change(deps, actor, 'updateUpstreamKey', id, { ...patch, ...(patch.models?.length === 0 ? { models: null } : {}) });
  deps.health.reset(id);
  return row;
}

export async function disableUpstreamKeyAction(deps: Deps, actor: string, id: string, reason?: string | null): Promise<UpstreamKeyRow> {
  const data = parseInput(z.object({ id: idInput, reason: nameText(TEXT_LIMITS.reason).nullish() }), { id, reason });
  return change(deps, actor, 'disableUpstreamKey', data.id, { status: 'disabled', disabledReason: data.reason || 'disabled by an operator' });
}

/** Who the audit log names when the gateway itself takes a key out of rotation. */
export const GATEWAY_ACTOR = 'gateway';

/**
 * Disables a key its upstream rejected (401/403), audited like an
 * operator's disable. The reason is the upstream's own words, cut to fit,
 * not an operator's input held to the input rules.
 */
export async function disableRejectedUpstreamKey(deps: Deps, id: string, reason: string): Promise<UpstreamKeyRow> {
  return change(deps, GATEWAY_ACTOR, 'disableUpstreamKey', id, { status: 'disabled', disabledReason: reason.slice(0, TEXT_LIMITS.reason) });
}

export async function enableUpstreamKeyAction(deps: Deps, actor: string, id: string): Promise<UpstreamKeyRow> {
  const keyId = parseInput(idInput, id, 'id');
  const row = await change(deps, actor, 'enableUpstreamKey', keyId, { status: 'active', disabledReason: null });
  deps.health.reset(keyId);
  return row;
}

export async function removeUpstreamKeyAction(deps: Deps, actor: string, id: string): Promise<UpstreamKeyRow> {
  const keyId = parseInput(idInput, id, 'id');
  const row = await auditedChange(deps.database.db, deps.bus, actor, async (tx) => {
    const before = await deleteUpstreamKeyRow(tx, keyId);
    return {
      result: before,
      audit: { action: 'removeUpstreamKey', targetType: 'upstream-key', targetId: keyId, before: audited(before), after: null },
      events: [{ topic: 'invalidate', payload: { kind: 'upstream-keys' } }],
    };
  });
  await deps.pool.reload();
  deps.health.reset(keyId);
  return row;
}
