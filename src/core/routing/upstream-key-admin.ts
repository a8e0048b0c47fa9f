import type { Db } from '../../db/open-database.js';
import { upstreamKeys } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { newId } from '../ids.js';
import { lastFour, type SecretBox } from '../secrets/secret-box.js';

export const PROVIDERS = ['openai', 'anthropic', 'gemini', 'deepseek', 'openai-compatible'] as const;

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

/** Adds a provider key to the pool; the secret is encrypted before it reaches the database. */
export async function addUpstreamKey(db: Db, secrets: SecretBox, bus: EventBus, input: AddUpstreamKeyInput) {
  if (!(PROVIDERS as readonly string[]).includes(input.provider)) {
    throw new GatewayError('invalid_request', `Unknown provider '${input.provider}'; expected one of ${PROVIDERS.join(', ')}.`, { param: 'provider' });
  }
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
  bus.publish('invalidate', { kind: 'upstream-keys' });
  return row!;
}
