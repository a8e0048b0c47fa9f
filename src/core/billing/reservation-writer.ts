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
 * Group commit for the one write a client waits for. Every row asked for in
 * one turn of the event loop goes out in one INSERT: under load that turns
 * fifty round trips and commits into one. When the writer is quiet (nothing
 * in flight, the previous turn asked for one row at most, and this is the
 * turn's first), the row goes out at once on the prepared single-row
 * statement instead: waiting for the end of the turn cost a lone request the
 * rest of its turn (upstream dispatch and whatever else was queued, ~0.1 ms
 * p50 on the bench machine) before its round trip began. "Nothing in
 * flight" alone is not quiet enough: on PGlite a statement is over in
 * microseconds, and at 50 connections the first row of every turn then went
 * alone (40 % fewer requests/s). Batches do not wait for each other, so the
 * pool still runs several at once.
 */
export class ReservationWriter {
  readonly #batch = new TurnBatch<Pending>((pending) => {
    for (let i = 0; i < pending.length; i += MAX_BATCH) void this.#write(pending.slice(i, i + MAX_BATCH));
  });
  #inFlight = 0;
  #statements = 0;
  /** Rows asked for in this turn so far, and in the last turn that asked for any. */
  #turnRows = 0;
  #lastTurnRows = 0;
  readonly #endTurn = () => {
    this.#lastTurnRows = this.#turnRows;
    this.#turnRows = 0;
  };

  constructor(private readonly db: Db) {}

  /** Statements sent so far (each one round trip and one commit). */
  get statements(): number {
    return this.#statements;
  }

  write(reservation: Reservation, leaseId: string | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { reservation, leaseId, resolve, reject };
      const quiet = this.#inFlight === 0 && this.#lastTurnRows <= 1 && this.#turnRows === 0;
      if (this.#turnRows++ === 0) setImmediate(this.#endTurn);
      if (quiet) void this.#write([pending]);
      else this.#batch.add(pending);
    });
  }

  async #write(batch: Pending[]): Promise<void> {
    this.#inFlight++;
    const failures = await this.#insert(batch);
    // Not in flight any more before anyone hears back, so what they do next is sent at once.
    this.#inFlight--;
    for (let i = 0; i < batch.length; i++) {
      if (failures[i] === undefined) batch[i]!.resolve();
      else batch[i]!.reject(failures[i]);
    }
  }

  /** Each row's error, or undefined where it was written. */
  async #insert(batch: Pending[]): Promise<unknown[]> {
    if (batch.length > 1) {
      try {
        this.#statements++;
        await insertReservations(this.db, batch);
        return batch.map(() => undefined);
      } catch {
        // One bad row must not fail the others: each is retried alone and gets its own answer.
      }
    }
    this.#statements += batch.length;
    return Promise.all(batch.map((p) => insertReservation(this.db, p.reservation, p.leaseId).then(() => undefined, (err: unknown) => err ?? new Error('reservation insert failed'))));
  }
}
