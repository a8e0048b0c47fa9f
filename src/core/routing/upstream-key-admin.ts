import { eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { upstreamKeys } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../../contract/ids.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import { lastFour, type SecretBox } from '../secrets/secret-box.js';

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

function providerOf(providers: readonly ProviderInfo[], provider: string): ProviderInfo {
  const info = providers.find((p) => p.id === provider);
  if (!info) {
    const known = providers.map((p) => p.id).join(', ');
    throw new GatewayError('invalid_request', `Unknown provider '${provider}'; expected one of ${known}.`, { param: 'provider' });
  }
  return info;
}

/** A provider with no official endpoint (openai-compatible) is reached only through the key's own base URL. */
function assertBaseUrl(providers: readonly ProviderInfo[], provider: string, baseUrl: string | null | undefined): void {
  const info = providers.find((p) => p.id === provider);
  if (info && info.defaultBaseUrl === undefined && !baseUrl) {
    throw new GatewayError('invalid_request', `An ${provider} key needs a baseUrl.`, { param: 'baseUrl' });
  }
}

/** Inserts a key of one of `providers`; the secret is encrypted before it reaches the database. */
export async function insertUpstreamKeyRow(db: DbOrTx, secrets: SecretBox, providers: readonly ProviderInfo[], input: AddUpstreamKeyInput): Promise<UpstreamKeyRow> {
  providerOf(providers, input.provider);
  assertBaseUrl(providers, input.provider, input.baseUrl);
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
export async function addUpstreamKey(
  db: Db,
  secrets: SecretBox,
  bus: EventBus,
  providers: readonly ProviderInfo[],
  input: AddUpstreamKeyInput,
): Promise<UpstreamKeyRow> {
  const row = await insertUpstreamKeyRow(db, secrets, providers, input);
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
  providers: readonly ProviderInfo[],
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
  assertBaseUrl(providers, before.provider, baseUrl);
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
