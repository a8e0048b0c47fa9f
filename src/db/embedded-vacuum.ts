import type { PGlite } from '@electric-sql/pglite';
import { getTableName } from 'drizzle-orm';
import { apiKeys, leases, ledgerEntries, projects, replicas, usageRecords } from './schema.js';

/** The tables every request or heartbeat writes; the rest change when an operator does something. */
const BUSY_TABLES = [usageRecords, ledgerEntries, projects, apiKeys, leases, replicas].map((t) => `"${getTableName(t)}"`).join(', ');
/** Every this many passes the whole database, catalogues included, so every table gets frozen in time. */
const WHOLE_DATABASE_EVERY = 60;

/**
 * PGlite is Postgres in one process with no background workers, so no
 * autovacuum ever runs on the embedded database. Without VACUUM every
 * settled request leaves a dead row version and its index entries behind
 * (usage_records grew 20 MB per 40k requests instead of 12), and no row is
 * ever frozen, while transaction ids wrap around after ~2 billion
 * transactions (about one per request at low load) and only a frozen row
 * stays visible past that. So the gateway vacuums the embedded database
 * itself on a timer: the busy tables every pass, the whole database
 * (~60 catalogue tables too: 67 ms on an idle file-backed database) every
 * WHOLE_DATABASE_EVERY passes. A plain VACUUM skips pages untouched since the
 * last one and freezes a table once its oldest row is old enough; it took
 * ~40 ms for 40k settled requests, during which PGlite answers nothing else.
 */
export class EmbeddedVacuum {
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #passes = 0;

  constructor(
    private readonly client: PGlite,
    everyMs: number,
    private readonly onDone: (err: unknown, ms: number) => void,
  ) {
    this.#timer = setInterval(() => this.#run(), everyMs);
    this.#timer.unref();
  }

  #run(): void {
    // A pass still under way when the next is due is enough.
    if (this.#running) return;
    const started = performance.now();
    const statement = this.#passes++ % WHOLE_DATABASE_EVERY === 0 ? 'VACUUM' : `VACUUM ${BUSY_TABLES}`;
    this.#running = this.client
      .exec(statement)
      .then(
        () => this.onDone(undefined, performance.now() - started),
        (err: unknown) => this.onDone(err, performance.now() - started),
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** No more passes; waits for one under way, so the database is not closed beneath it. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
