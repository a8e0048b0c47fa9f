import type { Config } from '../../config.js';
import type { Database } from '../../db/open-database.js';
import type { Logger } from '../logger.js';
import { type EventBus, LocalEventBus } from './event-bus.js';
import { PgEventBus } from './pg-event-bus.js';
import { RedisEventBus } from './redis-event-bus.js';

/**
 * The bus for this deployment: Redis pub/sub when REDIS_URL is set (large
 * fleets), else Postgres LISTEN/NOTIFY when the database is a shared
 * Postgres, else in-process (PGlite is one process by construction).
 */
export async function createEventBus(config: Config, database: Database, logger?: Logger): Promise<EventBus> {
  const options = logger ? { logger } : {};
  if (config.REDIS_URL) return RedisEventBus.connect({ url: config.REDIS_URL, ...options });
  if (database.raw.kind === 'postgres') return PgEventBus.connect({ url: database.raw.url, ...options });
  return new LocalEventBus();
}
