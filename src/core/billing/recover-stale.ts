import { and, inArray, isNull, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { replicas, reservationBatches, usageRecords } from '../../db/schema.js';
import { costOf, parsePrice } from '../money.js';
import { type Settlement, type SettleResult, settleMany } from './settle.js';

export interface StaleRule {
  /** Any reservation older than this is settled, whoever holds it. */
  olderThan: Date;
  /** Replicas whose heartbeat is older than this are dead: their reservations and leases are settled. */
  deadBefore: Date;
}

/** Reservation batches read per pass of the loop (each names at most 500 rows). */
const BATCHES = 20;
/** Rows settled per statement. */
const SETTLE_ROWS = 500;

/**
 * Settles reservations whose request can no longer finish: the process that
 * held them stopped heartbeating (crashed), or they are older than any
 * request may live. The rule: charge the prompt at the recorded input price,
 * since the upstream has most likely billed the input; output that was never
 * counted is not charged. Status becomes `aborted` with error code
 * `recovered`. Open rows are found through their reservation batches (a
 * dead replica's, or any older than the rule), which are then deleted. Then
 * the dead replicas' escrow leases go back to their projects. Settlement is
 * idempotent, so replicas may run this concurrently.
 */
export async function recoverStaleReservations(db: Db, rule: StaleRule, onSettled?: (result: SettleResult) => void): Promise<number> {
  const alive = db.select({ id: replicas.id }).from(replicas).where(sql`${replicas.heartbeatAt} >= ${rule.deadBefore.toISOString()}::timestamptz`);
  let settled = 0;
  for (;;) {
    const stale = await db
      .select({ id: reservationBatches.id, requestIds: reservationBatches.requestIds })
      .from(reservationBatches)
      .where(or(lt(reservationBatches.createdAt, rule.olderThan), notInArray(reservationBatches.replicaId, alive)))
      .limit(BATCHES);
    if (stale.length === 0) break;
    const requestIds = stale.flatMap((b) => b.requestIds);
    const open = await db
      .select({ id: usageRecords.id, promptTokens: usageRecords.promptTokens, inputPrice: usageRecords.inputPrice })
      .from(usageRecords)
      .where(and(inArray(usageRecords.id, requestIds), isNull(usageRecords.settledAt)));
    for (let i = 0; i < open.length; i += SETTLE_ROWS) {
      const results = await settleMany(db, open.slice(i, i + SETTLE_ROWS).map(recoveredSettlement));
      settled += results.length;
      for (const r of results) onSettled?.(r);
    }
    // Every row they name is settled now (by this pass or before it).
    await db.delete(reservationBatches).where(inArray(reservationBatches.id, stale.map((b) => b.id)));
    if (stale.length < BATCHES) break;
  }
  await releaseDeadLeases(db, rule.deadBefore);
  return settled;
}

function recoveredSettlement(row: { id: string; promptTokens: number; inputPrice: string }): Settlement {
  const price = parsePrice(row.inputPrice);
  return {
    requestId: row.id,
    status: 'aborted',
    httpStatus: 499,
    errorCode: 'recovered',
    promptTokens: row.promptTokens,
    completionTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    cost: costOf({ promptTokens: row.promptTokens, completionTokens: 0 }, { input: price, output: 0n, cachedInput: price }),
    attempts: 0,
  };
}

/**
 * A dead replica's leases, once none of its reservation batches is open
 * (each of its lease-backed rows is named by one until settled), return
 * what they hold.
 */
async function releaseDeadLeases(db: Db, deadBefore: Date): Promise<void> {
  await db.execute(sql`
    WITH dead AS (
      DELETE FROM leases l
      WHERE l.replica_id NOT IN (SELECT id FROM replicas WHERE heartbeat_at >= ${deadBefore.toISOString()}::timestamptz)
        AND NOT EXISTS (SELECT 1 FROM reservation_batches b WHERE b.replica_id = l.replica_id)
      RETURNING l.project_id, l.amount
    )
    UPDATE projects p SET reserved = p.reserved - d.amount
    FROM (SELECT project_id, sum(amount) AS amount FROM dead GROUP BY project_id) d
    WHERE p.id = d.project_id`);
}
