import { insertReservations, type Reservation } from '../../src/core/billing/reserve.js';
import { settleMany } from '../../src/core/billing/settle.js';
import { newId } from '../../src/core/ids.js';
import type { Db } from '../../src/db/open-database.js';

/** `n` free test-mode reservations of one key, written in one statement; their request ids. */
export async function reserveMany(db: Db, projectId: string, apiKeyId: string, n: number): Promise<string[]> {
  const batch = Array.from({ length: n }, (): { reservation: Reservation; leaseId: null } => ({
    reservation: {
      requestId: newId('req'), projectId, apiKeyId, endpoint: 'chat', modelId: 'm', cost: 0n, promptTokens: 1,
      prices: { input: 0n, output: 0n, cachedInput: 0n }, priceText: { input: '0', output: '0', cachedInput: '0' },
      stream: false, test: true, replicaId: 'rep_churn',
    },
    leaseId: null,
  }));
  await insertReservations(db, batch);
  return batch.map((b) => b.reservation.requestId);
}

/** Settles each request as a free success in one statement; how many were still open. */
export async function settleAllOk(db: Db, requestIds: string[]): Promise<number> {
  const settled = await settleMany(db, requestIds.map((requestId) => ({
    requestId, status: 'ok' as const, httpStatus: 200, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, cost: 0n, attempts: 1,
  })));
  return settled.length;
}
