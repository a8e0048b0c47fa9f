import { and, eq, lt, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { replicas, usageRecords } from '../../db/schema.js';
import { costOf, parsePrice } from '../money.js';
import { type SettleResult, settle } from './settle.js';

export interface StaleRule {
  /** Any reservation older than this is settled, whoever holds it. */
  olderThan: Date;
  /** Replicas whose heartbeat is older than this are dead: their reservations are settled. */
  deadBefore: Date;
}

/**
 * Settles reservations whose request can no longer finish: the process that
 * held them stopped heartbeating (crashed), or they are older than any
 * request may live. The rule:
 * charge the prompt at the recorded input price, since the upstream has
 * most likely billed the input; output that was never counted is not
 * charged. Status becomes `aborted` with error code `recovered`.
 */
export async function recoverStaleReservations(
  db: Db,
  rule: StaleRule,
  onSettled?: (requestId: string, result: SettleResult) => void,
): Promise<number> {
  const stale = await db
    .select({ id: usageRecords.id, promptTokens: usageRecords.promptTokens, inputPrice: usageRecords.inputPrice })
    .from(usageRecords)
    .where(
      and(
        eq(usageRecords.status, 'reserved'),
        or(
          lt(usageRecords.createdAt, rule.olderThan),
          notInArray(
            usageRecords.replicaId,
            db.select({ id: replicas.id }).from(replicas).where(sql`${replicas.heartbeatAt} >= ${rule.deadBefore.toISOString()}::timestamptz`),
          ),
        ),
      ),
    )
    .limit(1000);
  let settled = 0;
  for (const row of stale) {
    const price = parsePrice(row.inputPrice);
    const result = await settle(db, {
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
    });
    if (result) {
      settled++;
      onSettled?.(row.id, result);
    }
  }
  return settled;
}
