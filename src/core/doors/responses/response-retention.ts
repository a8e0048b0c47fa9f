import type { Logger } from '../../logger.js';
import type { ResponseStore } from './response-store.js';

const PURGE_INTERVAL_MS = 60 * 60_000;
const DAY_MS = 86_400_000;

/**
 * Deletes stored responses older than the retention (RESPONSES_RETENTION_DAYS)
 * once an hour on every replica; deletes are idempotent, so replicas running
 * it together only repeat a cheap indexed query. Returns the stop function.
 */
export function startResponsePurge(store: ResponseStore, retentionDays: number, logger: Logger, intervalMs = PURGE_INTERVAL_MS): () => void {
  const purge = () => {
    store
      .purge(new Date(Date.now() - retentionDays * DAY_MS))
      .then((n) => {
        if (n > 0) logger.info({ deleted: n, retentionDays }, 'purged stored responses past their retention');
      })
      .catch((err: unknown) => logger.error({ err }, 'purging stored responses failed'));
  };
  const timer = setInterval(purge, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
