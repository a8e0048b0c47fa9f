import type { Config } from '../../config.js';
import type { Database } from '../../db/open-database.js';
import { type EventBus, LocalEventBus } from './event-bus.js';

/** The bus for this deployment: in-process for one replica. */
export async function createEventBus(_config: Config, _database: Database): Promise<EventBus> {
  return new LocalEventBus();
}
