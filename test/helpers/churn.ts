import { insertReservations, type Reservation } from '../../src/core/billing/reserve.js';
import { type Settlement, settleMany } from '../../src/core/billing/settle.js';
import { newId } from '../../src/contract/ids.js';
import type { Db } from '../../src/db/open-database.js';

/** A free test-mode reservation of one prompt token on a key. */
export const freeReservation = (projectId: string, apiKeyId: string): Reservation => ({
  requestId: newId('req'), projectId, apiKeyId, endpoint: 'chat', modelId: 'm', cost: 0n, promptTokens: 1,
  prices: { input: 0n, output: 0n, cachedInput: 0n, cacheWrite: 0n, cacheWrite1h: 0n }, priceText: { input: '0', output: '0', cachedInput: '0', cacheWrite: '0', cacheWrite1h: '0' },
  stream: false, test: true, replicaId: 'rep_churn',
});

/** Its settlement as a free success. */
export const okSettlement = (requestId: string): Settlement => ({
  requestId, status: 'ok', httpStatus: 200, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, cost: 0n, attempts: 1,
});

/** `n` free reservations of one key, written in one statement; their request ids. */
export async function reserveMany(db: Db, projectId: string, apiKeyId: string, n: number): Promise<string[]> {
  const batch = Array.from({ length: n }, () => ({ reservation: freeReservation(projectId, apiKeyId), leaseId: null }));
  await insertReservations(db, batch);
  return batch.map((b) => b.reservation.requestId);
}

/** Settles each request as a free success in one statement; how many were still open. */
export async function settleAllOk(db: Db, requestIds: string[]): Promise<number> {
  return (await settleMany(db, requestIds.map(okSettlement))).length;
}
