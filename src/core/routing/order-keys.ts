import type { PoolKey } from './upstream-pool.js';

/**
 * Lowest priority tier first; within a tier a weighted random order
 * (Efraimidis–Spirakis: sort by u^(1/w)), so load spreads by weight and
 * the next candidates are ready for failover.
 */
export function orderKeys(keys: PoolKey[], random: () => number = Math.random): PoolKey[] {
  return keys
    .map((key) => ({ key, rank: random() ** (1 / Math.max(key.weight, 1e-6)) }))
    .sort((a, b) => a.key.priority - b.key.priority || b.rank - a.rank)
    .map((x) => x.key);
}
