import { and, eq, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { replicas, usageRecords } from '../../db/schema.js';
import { failOpenResponses } from '../doors/responses/response-store.js';
import { costOf, parsePrice } from '../money.js';
import { type SettleResult, settleMany } from './settle.js';

export interface StaleRule {
  /** Any reservation older than this is settled, whoever holds it. */
  olderThan: Date;
  /** Replicas whose heartbeat is older than this are dead: their reservations and leases are settled. */
  deadBefore: Date;
  /** The replica running the pass: its own background responses are never failed, late heartbeat or not. */
  self?: string;
}

const BATCH = 500;

/**
 * Settles reservations whose request can no longer finish: the process that
 * held them stopped heartbeating (crashed), or they are older than any
 * request may live. The rule: charge the prompt at the recorded input price,
 * since the upstream has most likely billed the input; output that was never
 * counted is not charged. Status becomes `aborted` with error code
 * `recovered`. Then the dead replicas' escrow leases go back to their
 * projects. Settlement is idempotent, so replicas may run this concurrently.
 */
export async function recoverStaleReservations(db: Db, rule: StaleRule, onSettled?: (result: SettleResult) => void): Promise<number> {
  const alive = db.select({ id: replicas.id }).from(replicas).where(sql`${replicas.heartbeatAt} >= ${rule.deadBefore.toISOString()}::timestamptz`);
  let settled = 0;
  for (;;) {
    const stale = await db
      .select({ id: usageRecords.id, promptTokens: usageRecords.promptTokens, inputPrice: usageRecords.inputPrice })
      .from(usageRecords)
      .where(and(eq(usageRecords.status, 'reserved'), or(lt(usageRecords.createdAt, rule.olderThan), notInArray(usageRecords.replicaId, alive))))
      .limit(BATCH);
    if (stale.length === 0) break;
    const results = await settleMany(
      db,
      stale.map((row) => {
        const price = parsePrice(row.inputPrice);
        return {
          requestId: row.id,
          status: 'aborted' as const,
          httpStatus: 499,
          errorCode: 'recovered',
          promptTokens: row.promptTokens,
          completionTokens: 0,
          cachedTokens: 0,
          reasoningTokens: 0,
          cost: costOf({ promptTokens: row.promptTokens, completionTokens: 0 }, { input: price, output: 0n, cachedInput: price, cacheWrite: price, cacheWrite1h: price }),
          attempts: 0,
        };
      }),
    );
    settled += results.length;
    for (const r of results) onSettled?.(r);
    if (stale.length < BATCH) break;
  }
  await releaseDeadLeases(db, rule.deadBefore);
  // Their background responses would otherwise stay in_progress for ever.
  await failOpenResponses(db, rule.deadBefore, rule.self);
  return settled;
}

/** A dead replica's leases, once none of their requests is open, return what they hold. */
async function releaseDeadLeases(db: Db, deadBefore: Date): Promise<void> {
  await db.execute(sql`
    WITH dead AS (
      DELETE FROM leases l
      WHERE l.replica_id NOT IN (SELECT id FROM replicas WHERE heartbeat_at >= ${deadBefore.toISOString()}::timestamptz)
        AND NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.lease_id = l.id AND u.status = 'reserved')
      RETURNING l.project_id, l.amount
    )
    UPDATE projects p SET reserved = p.reserved - d.amount
    FROM (SELECT project_id, sum(amount) AS amount FROM dead GROUP BY project_id) d
    WHERE p.id = d.project_id`);
}
