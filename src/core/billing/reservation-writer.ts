import type { Db } from '../../db/open-database.js';
import { TurnBatch } from '../turn-batch.js';
import { insertReservation, insertReservations, type Reservation } from './reserve.js';

/** Rows written by one statement at most. */
const MAX_BATCH = 500;

interface Pending {
  reservation: Reservation;
  leaseId: string | null;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the one write a client waits for: every reservation row
 * asked for in one turn of the event loop goes out in one INSERT. Under load
 * that turns fifty round trips and commits into one; a lone request still
 * takes the prepared single-row statement. Batches do not wait for each
 * other, so the pool still runs several at once.
 */
export class ReservationWriter {
  readonly #batch = new TurnBatch<Pending>((pending) => {
    for (let i = 0; i < pending.length; i += MAX_BATCH) void this.#write(pending.slice(i, i + MAX_BATCH));
  });

  constructor(private readonly db: Db) {}

  write(reservation: Reservation, leaseId: string | null): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#batch.add({ reservation, leaseId, resolve, reject }));
  }

  async #write(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await insertReservations(this.db, batch);
        for (const p of batch) p.resolve();
        return;
      } catch {
        // One bad row must not fail the others: each is retried alone and gets its own answer.
      }
    }
    await Promise.all(batch.map((p) => insertReservation(this.db, p.reservation, p.leaseId).then(p.resolve, p.reject)));
  }
}
