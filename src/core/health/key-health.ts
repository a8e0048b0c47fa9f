import type { Gateway } from '../gateway.js';
import { type UpstreamKeyIdentity, upstreamKeyIdentities } from '../routing/upstream-key-queries.js';
import type { KeyHealth } from './health-tracker.js';

/** One key's health as operators see it: the tracker's snapshot, and `disabled` for keys switched off in the pool. */
export type KeyHealthView = Omit<KeyHealth, 'state'> & {
  state: string;
  /** Null in change events, which carry ids only. */
  label: string | null;
  at: string;
};

export function keyHealth(gateway: Pick<Gateway, 'health'>, key: UpstreamKeyIdentity): KeyHealthView {
  const snap = gateway.health.snapshot(key.id, key.provider);
  return { ...snap, provider: key.provider, state: key.status === 'disabled' ? 'disabled' : snap.state, label: key.label, at: new Date().toISOString() };
}

/** Every key's health now, optionally one provider's, by provider then id. */
export async function healthOfKeys(gateway: Pick<Gateway, 'health' | 'database'>, provider?: string | null): Promise<KeyHealthView[]> {
  const keys = await upstreamKeyIdentities(gateway.database.db, provider);
  return keys.map((key) => keyHealth(gateway, key));
}
