import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { eq, lt } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { requestPayloads } from '../../db/schema.js';
import type { Logger } from '../logger.js';
import type { RequestObserver, RequestSummary } from '../telemetry/request-observer.js';
import { redact } from './redact-patterns.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Payloads waiting for company before a write (as settlements do); a full batch goes at once. */
const WRITE_DELAY_MS = 200;
const MAX_BATCH = 64;
/** What waits at most: beyond it new payloads are dropped (and counted in the log) rather than held in memory. */
const MAX_QUEUED = 2_000;
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** The first purge, soon after start: a replica restarted more often than hourly still purges. */
const FIRST_PURGE_MS = 60 * 1000;

interface Pending {
  requestId: string;
  projectId: string;
  patterns: readonly string[];
  request: unknown;
  response: unknown;
}

export interface StoredPayload {
  request: string;
  response: string | null;
  capturedAt: Date;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? 'null');

/**
 * Captured prompts and answers of the projects that ask for them: taken
 * from each closed request (a RequestObserver), then redacted, compressed
 * and written in batches off every client's path; read back by the request
 * explorer; deleted after the retention by a periodic purge.
 */
export class PayloadStore implements RequestObserver {
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #dropped = 0;
  readonly #purgeTimer: NodeJS.Timeout;
  readonly #firstPurge: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly retentionDays: number,
  ) {
    const purge = () => void this.purge().catch((err: unknown) => this.logger.error({ err }, 'purging captured payloads failed'));
    this.#purgeTimer = setInterval(purge, PURGE_INTERVAL_MS).unref();
    this.#firstPurge = setTimeout(purge, FIRST_PURGE_MS).unref();
  }

  requestClosed(summary: RequestSummary): void {
    const capture = summary.capture;
    if (!capture) return;
    if (this.#queue.length >= MAX_QUEUED) {
      if (this.#dropped++ === 0) this.logger.warn({ queued: MAX_QUEUED }, 'payload capture is behind; dropping payloads until it catches up');
      return;
    }
    this.#queue.push({ requestId: summary.requestId, projectId: summary.projectId, patterns: capture.redactPatterns, request: capture.request, response: capture.response?.() });
    if (this.#queue.length >= MAX_BATCH) this.#schedule(0);
    else this.#schedule(WRITE_DELAY_MS);
  }

  #schedule(delayMs: number): void {
    if (this.#writing) return;
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#drain(), delayMs);
  }

  async #drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing) return;
    const run = (async () => {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          await this.#write(batch);
        } catch (err) {
          this.logger.error({ err, requests: batch.length }, 'captured payloads not written');
        }
      }
    })();
    this.#writing = run;
    await run;
    this.#writing = undefined;
    // What arrived while the last batch was on its way.
    if (this.#queue.length > 0) this.#schedule(WRITE_DELAY_MS);
    if (this.#dropped > 0) {
      this.logger.warn({ dropped: this.#dropped }, 'payload capture caught up; some payloads were dropped');
      this.#dropped = 0;
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    const rows = await Promise.all(
      batch.map(async (p) => ({
        requestId: p.requestId,
        projectId: p.projectId,
        // zlib runs on libuv's pool; redaction is bounded in size (redact-patterns.ts).
        request: await gzipAsync(redact(asText(p.request), p.patterns)),
        response: p.response === undefined ? null : await gzipAsync(redact(asText(p.response), p.patterns)),
      })),
    );
    await this.db.insert(requestPayloads).values(rows).onConflictDoNothing();
  }

  /** Resolves once every payload captured so far is written. */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#writing) {
      if (!this.#writing) await this.#drain();
      else await this.#writing;
    }
  }

  /** Deletes payloads older than the retention (as of `now`); returns how many. */
  async purge(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.retentionDays * 86_400_000);
    const deleted = await this.db.delete(requestPayloads).where(lt(requestPayloads.createdAt, cutoff)).returning({ id: requestPayloads.requestId });
    if (deleted.length > 0) this.logger.info({ deleted: deleted.length, retentionDays: this.retentionDays }, 'purged expired payloads');
    return deleted.length;
  }

  /** One request's payload, decompressed; undefined when none was captured (or it expired). */
  async load(requestId: string): Promise<StoredPayload | undefined> {
    const [row] = await this.db.select().from(requestPayloads).where(eq(requestPayloads.requestId, requestId)).limit(1);
    if (!row) return undefined;
    return {
      request: (await gunzipAsync(row.request)).toString('utf8'),
      response: row.response ? (await gunzipAsync(row.response)).toString('utf8') : null,
      capturedAt: row.createdAt,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#purgeTimer);
    clearTimeout(this.#firstPurge);
    await this.idle();
  }
}
