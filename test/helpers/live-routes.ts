import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import type { ModelCapabilities } from '../../src/db/schema.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import type { TestGateway } from './start-gateway.js';

export interface LiveKey {
  baseUrl: string;
  label?: string;
  priority?: number;
  weight?: number;
  secret?: string;
  /** Per-minute caps the dispatcher keeps the key under. */
  rpmLimit?: number;
  tpmLimit?: number;
}

/**
 * A catalogue model routed to upstream emulators, priced 1 per 1M input
 * tokens and 2 per 1M output tokens so costs are easy to check. Cache writes
 * cost the input price too, so a reservation is prompt × 1 + output × 2.
 */
export async function liveModel(
  gw: TestGateway,
  options: { id: string; provider?: string; upstreamModel?: string; keys: LiveKey[]; fallbacks?: string[]; kind?: 'chat' | 'embedding'; maxOutputTokens?: number; capabilities?: ModelCapabilities },
): Promise<string[]> {
  const provider = options.provider ?? 'openai';
  await upsertModel(
    gw.database.db,
    {
      id: options.id,
      kind: options.kind ?? 'chat',
      ownedBy: 'test',
      inputPrice: '1',
      outputPrice: '2',
      cachedInputPrice: '0.5',
      cacheWritePrice: '1',
      cacheWrite1hPrice: '1',
      maxOutputTokens: options.maxOutputTokens ?? 1000,
      ...(options.kind === 'embedding' ? { dimensions: 8 } : {}),
      fallbacks: options.fallbacks ?? [],
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      routes: [{ provider, upstreamModel: options.upstreamModel ?? 'gpt-4o-mini' }],
    },
    gw.gateway.bus,
  );
  const ids: string[] = [];
  for (const [i, key] of options.keys.entries()) {
    const row = await addUpstreamKey(gw.database.db, gw.gateway.secrets, gw.gateway.bus, gw.gateway.providers, {
      provider,
      label: key.label ?? `${options.id}-${i}`,
      secret: key.secret ?? `sk-test-${options.id}-${i}`,
      baseUrl: key.baseUrl,
      priority: key.priority ?? i,
      weight: key.weight ?? 1,
      models: [options.upstreamModel ?? 'gpt-4o-mini'],
      ...(key.rpmLimit !== undefined ? { rpmLimit: key.rpmLimit } : {}),
      ...(key.tpmLimit !== undefined ? { tpmLimit: key.tpmLimit } : {}),
    });
    ids.push(row.id);
  }
  // Invalidation reloads run in the background; tests wait for them.
  await Promise.all([gw.gateway.catalogue.reload(), gw.gateway.pool.reload()]);
  return ids;
}
