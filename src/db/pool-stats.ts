import type postgres from 'postgres';

/**
 * What postgres.js' pool holds at this moment. postgres.js keeps these
 * counts to itself; `sql.pool` is ours (patches/postgres*), read out of the
 * queues it moves its connections between.
 */
export interface PoolStats {
  /** Open and idle. */
  idle: number;
  /** Running queries, with room in their pipeline for more. */
  busy: number;
  /** Running queries, their pipeline full. */
  full: number;
  /** Held by a transaction (`begin`) or a reserved session. */
  reserved: number;
  connecting: number;
  /** Queries waiting for a connection. */
  queued: number;
  /** Queries that had to wait for a connection, since the pool opened. */
  waits: number;
  /** How long they waited, in all. */
  waitSeconds: number;
}

/** Reads the pool's counts; undefined when postgres.js was installed without the patch that exposes them. */
export function poolStatsOf(client: postgres.Sql): (() => PoolStats) | undefined {
  const withPool = client as postgres.Sql & { pool?: PoolStats };
  if (withPool.pool === undefined) return undefined;
  return () => withPool.pool as PoolStats;
}
