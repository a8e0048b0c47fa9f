import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/open-database.js';
import { ledgerEntries, projects } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import { newOrderedId } from '../../contract/ids.js';
import { formatMoney, parseMoney } from '../money.js';

export interface BalanceChange {
  projectId: string;
  /** Signed pico-units. */
  amount: bigint;
  kind: 'credit' | 'adjustment' | 'refund';
  reason: string;
  actor: string;
}

export interface BalanceAfter {
  balance: bigint;
  reserved: bigint;
}

/**
 * Moves money into or out of a project with its ledger entry in one
 * transaction, so the balance always equals the ledger's sum. A change may
 * not take the balance below what in-flight requests have reserved.
 */
export async function changeBalance(db: DbOrTx, change: BalanceChange): Promise<BalanceAfter> {
  if (change.kind === 'credit' && change.amount <= 0n) {
    throw new GatewayError('invalid_request', 'A credit must be a positive amount.', { param: 'amount' });
  }
  const amount = formatMoney(change.amount);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(projects)
      .set({ balance: sql`${projects.balance} + ${amount}::numeric`, updatedAt: sql`now()` })
      .where(eq(projects.id, change.projectId))
      .returning({ balance: projects.balance, reserved: projects.reserved });
    if (!row) throw new GatewayError('not_found', `Project ${change.projectId} not found.`);
    const after = { balance: parseMoney(row.balance), reserved: parseMoney(row.reserved) };
    if (after.balance < after.reserved) {
      throw new GatewayError(
        'invalid_request',
        `This change would leave the balance (${formatMoney(after.balance)}) below the amount reserved by in-flight requests (${formatMoney(after.reserved)}).`,
        { param: 'amount' },
      );
    }
    await tx.insert(ledgerEntries).values({
      id: newOrderedId('led'),
      projectId: change.projectId,
      kind: change.kind,
      amount,
      balanceAfter: row.balance,
      reason: change.reason,
      actor: change.actor,
    });
    return after;
  });
}
