import { eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { upstreamKeys } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../../contract/ids.js';
import { lastFour, type SecretBox } from '../secrets/secret-box.js';

export const PROVIDERS = ['openai', 'anthropic', 'gemini', 'deepseek', 'openai-compatible'] as const;
export type ProviderId = (typeof PROVIDERS)[number];

export type UpstreamKeyRow = typeof upstreamKeys.$inferSelect;

export interface AddUpstreamKeyInput {
  provider: string;
  label: string;
  secret: string;
  baseUrl?: string | null;
  weight?: number;
  priority?: number;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  models?: string[] | null;
}

function assertProvider(provider: string): void {
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new GatewayError('invalid_request', `Unknown provider '${provider}'; expected one of ${PROVIDERS.join(', ')}.`, { param: 'provider' });
  }
}

/** Inserts a provider key; the secret is encrypted before it reaches the database. */
export async function insertUpstreamKeyRow(db: DbOrTx, secrets: SecretBox, input: AddUpstreamKeyInput): Promise<UpstreamKeyRow> {
  assertProvider(input.provider);
  if (input.provider === 'openai-compatible' && !input.baseUrl) {
    throw new GatewayError('invalid_request', 'An openai-compatible key needs a baseUrl.', { param: 'baseUrl' });
  }
  const [row] = await db
    .insert(upstreamKeys)
    .values({
      id: newId('upk', 16),
      provider: input.provider,
      label: input.label,
      secretCiphertext: secrets.encrypt(input.secret),
      secretLast4: lastFour(input.secret),
      baseUrl: input.baseUrl ?? null,
      weight: input.weight ?? 1,
      priority: input.priority ?? 0,
      rpmLimit: input.rpmLimit ?? null,
      tpmLimit: input.tpmLimit ?? null,
      models: input.models ?? null,
    })
    .returning();
  return row!;
}

/** Adds a provider key to the pool and tells every replica's pool to reload. */
export async function addUpstreamKey(db: Db, secrets: SecretBox, bus: EventBus, input: AddUpstreamKeyInput): Promise<UpstreamKeyRow> {
  const row = await insertUpstreamKeyRow(db, secrets, input);
  bus.publish('invalidate', { kind: 'upstream-keys' });
  return row;
}

export async function findUpstreamKey(db: DbOrTx, id: string): Promise<UpstreamKeyRow> {
  const [row] = await db.select().from(upstreamKeys).where(eq(upstreamKeys.id, id));
  if (!row) throw new GatewayError('not_found', `Upstream key ${id} not found.`, { param: 'id' });
  return row;
}

export interface UpstreamKeyPatch {
  label?: string;
  /** A new secret replaces the old one (rotation); it is encrypted like the first. */
  secret?: string;
  baseUrl?: string | null;
  weight?: number;
  priority?: number;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  models?: string[] | null;
  status?: 'active' | 'disabled';
  disabledReason?: string | null;
}

/** Changes the given fields of a key; the provider stays what it was. */
export async function updateUpstreamKeyRow(
  db: DbOrTx,
  secrets: SecretBox,
  id: string,
  patch: UpstreamKeyPatch,
): Promise<{ before: UpstreamKeyRow; after: UpstreamKeyRow }> {
  const before = await findUpstreamKey(db, id);
  const { secret, ...rest } = patch;
  const set: Partial<typeof upstreamKeys.$inferInsert> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  if (secret !== undefined) {
    set.secretCiphertext = secrets.encrypt(secret);
    set.secretLast4 = lastFour(secret);
  }
  const baseUrl = patch.baseUrl === undefined ? before.baseUrl : patch.baseUrl;
  if (before.provider === 'openai-compatible' && !baseUrl) {
    throw new GatewayError('invalid_request', 'An openai-compatible key needs a baseUrl.', { param: 'baseUrl' });
  }
  const [after] = await db
    .update(upstreamKeys)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(upstreamKeys.id, id))
    .returning();
  return { before, after: after! };
}

export async function deleteUpstreamKeyRow(db: DbOrTx, id: string): Promise<UpstreamKeyRow> {
  const before = await findUpstreamKey(db, id);
  await db.delete(upstreamKeys).where(eq(upstreamKeys.id, id));
  return before;
}
