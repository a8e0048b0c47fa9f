import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { apiKeys, ledgerEntries, projects, usageRecords } from '../../db/schema.js';
import { newId } from '../ids.js';
import { formatMoney, parseMoney } from '../money.js';

export type SettledStatus = 'ok' | 'error' | 'aborted';

export interface Settlement {
  requestId: string;
  status: SettledStatus;
  httpStatus: number;
  errorCode?: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Real cost in pico-units; the charge is capped at the reservation. */
  cost: bigint;
  provider?: string | null;
  upstreamModel?: string | null;
  upstreamKeyId?: string | null;
  latencyMs?: number | null;
  ttftMs?: number | null;
  attempts: number;
}

export interface SettleResult {
  projectId: string;
  apiKeyId: string;
  charged: bigint;
  balance: bigint;
  reserved: bigint;
  createdAt: Date;
  test: boolean;
  stream: boolean;
  modelId: string;
}

/**
 * Closes a reservation at the real cost, in one transaction: the usage row,
 * the project's balance and reservation, the key's spend and the ledger
 * entry. Idempotent per request id: only a row still `reserved` is settled,
 * so a retry or the recovery pass can never charge twice. The charge never
 * exceeds what was reserved (reserve ≥ settle), so no balance goes negative.
 */
export async function settle(db: Db, s: Settlement): Promise<SettleResult | undefined> {
  const cost = formatMoney(s.cost < 0n ? 0n : s.cost);
  return db.transaction(async (tx) => {
    const [usage] = await tx
      .update(usageRecords)
      .set({
        status: s.status,
        httpStatus: s.httpStatus,
        errorCode: s.errorCode ?? null,
        promptTokens: s.promptTokens,
        completionTokens: s.completionTokens,
        cachedTokens: s.cachedTokens,
        reasoningTokens: s.reasoningTokens,
        cost: sql`LEAST(${cost}::numeric, ${usageRecords.reservedCost})`,
        provider: s.provider ?? null,
        upstreamModel: s.upstreamModel ?? null,
        upstreamKeyId: s.upstreamKeyId ?? null,
        latencyMs: s.latencyMs ?? null,
        ttftMs: s.ttftMs ?? null,
        attempts: s.attempts,
        settledAt: sql`now()`,
      })
      .where(and(eq(usageRecords.id, s.requestId), eq(usageRecords.status, 'reserved')))
      .returning({
        projectId: usageRecords.projectId,
        apiKeyId: usageRecords.apiKeyId,
        reservedCost: usageRecords.reservedCost,
        cost: usageRecords.cost,
        createdAt: usageRecords.createdAt,
        test: usageRecords.test,
        stream: usageRecords.stream,
        modelId: usageRecords.modelId,
      });
    if (!usage) return undefined;
    const [project] = await tx
      .update(projects)
      .set({
        reserved: sql`${projects.reserved} - ${usage.reservedCost}::numeric`,
        balance: sql`${projects.balance} - ${usage.cost}::numeric`,
      })
      .where(eq(projects.id, usage.projectId))
      .returning({ balance: projects.balance, reserved: projects.reserved });
    const rollover = sql`${apiKeys.spendLimitPeriod} = 'monthly' AND ${apiKeys.periodStart} < date_trunc('month', now())`;
    await tx
      .update(apiKeys)
      .set({
        reserved: sql`${apiKeys.reserved} - ${usage.reservedCost}::numeric`,
        periodSpent: sql`(CASE WHEN ${rollover} THEN 0 ELSE ${apiKeys.periodSpent} END) + ${usage.cost}::numeric`,
        periodStart: sql`(CASE WHEN ${rollover} THEN date_trunc('month', now()) ELSE ${apiKeys.periodStart} END)`,
        spentTotal: sql`${apiKeys.spentTotal} + ${usage.cost}::numeric`,
        lastUsedAt: sql`now()`,
      })
      .where(eq(apiKeys.id, usage.apiKeyId));
    const charged = parseMoney(usage.cost);
    if (charged > 0n) {
      await tx.insert(ledgerEntries).values({
        id: newId('led'),
        projectId: usage.projectId,
        kind: 'charge',
        amount: `-${usage.cost}`,
        balanceAfter: project!.balance,
        requestId: s.requestId,
        reason: `usage ${usage.modelId}`,
      });
    }
    return {
      projectId: usage.projectId,
      apiKeyId: usage.apiKeyId,
      charged,
      balance: parseMoney(project!.balance),
      reserved: parseMoney(project!.reserved),
      createdAt: usage.createdAt,
      test: usage.test,
      stream: usage.stream,
      modelId: usage.modelId,
    };
  });
}
