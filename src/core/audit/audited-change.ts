import type { Db, Tx } from '../../db/open-database.js';
import type { EventBus, GatewayEvents, Topic } from '../events/event-bus.js';
import { type AuditEntry, writeAudit } from './audit-log.js';

/** An event to publish once the change is committed. */
export type PendingEvent = { [T in Topic]: { topic: T; payload: GatewayEvents[T] } }[Topic];

export interface Change<T> {
  result: T;
  audit: AuditEntry;
  /** Published after COMMIT: a replica that reloads on the event must find the new rows. */
  events?: PendingEvent[];
}

/**
 * Runs an operator's change and its audit entry in one transaction, so a
 * change is never left without its audit row (or half-written: any throw
 * rolls both back), then publishes the change's events.
 */
export async function auditedChange<T>(db: Db, bus: EventBus, actor: string, change: (tx: Tx) => Promise<Change<T>>): Promise<T> {
  const done = await db.transaction(async (tx) => {
    const c = await change(tx);
    await writeAudit(tx, actor, c.audit);
    return c;
  });
  for (const event of done.events ?? []) bus.publish(event.topic, event.payload as never);
  return done.result;
}
