import { randomUUID } from 'node:crypto';
import type { GatewayEvents, Topic } from './event-bus.js';

// What cross-replica buses send: the publishing bus's origin id, a space, then
// a JSON array of [topic, payload] pairs. Events published in one turn of the
// event loop travel together (a settle batch's usage events are one NOTIFY,
// not one each), and a bus skips its own echo by the prefix without parsing.

const TOPICS: ReadonlySet<string> = new Set<Topic>(['usage', 'health', 'invalidate', 'balance', 'response-cancel']);

export interface WireEvent<T extends Topic = Topic> {
  topic: T;
  payload: GatewayEvents[T];
}

export const newOrigin = (): string => randomUUID();

/** Postgres refuses a NOTIFY payload of 8000 bytes or more; leave room for the quoting. */
export const MAX_WIRE_BYTES = 7_900;

const encodeOne = (event: WireEvent): string => JSON.stringify([event.topic, event.payload]);

/**
 * One event's encoded form, made to fit when it can without losing its
 * meaning: only free text (a health event's last error) is cut. Undefined
 * when it is still too large to travel at all.
 */
function fitOne(event: WireEvent, room: number): string | undefined {
  const text = encodeOne(event);
  if (Buffer.byteLength(text) <= room) return text;
  if (event.topic === 'health') {
    const again = encodeOne({ topic: 'health', payload: { ...(event.payload as GatewayEvents['health']), lastError: '(too long to relay)' } });
    if (Buffer.byteLength(again) <= room) return again;
  }
  return undefined;
}

/**
 * Packs events into as few messages as fit `maxBytes` each, in order.
 * Events too large to relay at all are handed to `onTooLarge`.
 */
export function packWireEvents(origin: string, events: readonly WireEvent[], onTooLarge: (event: WireEvent) => void, maxBytes = MAX_WIRE_BYTES): string[] {
  const head = Buffer.byteLength(origin) + 3; // space and the array's brackets
  const messages: string[] = [];
  let parts: string[] = [];
  let size = head;
  for (const event of events) {
    const text = fitOne(event, maxBytes - head);
    if (text === undefined) {
      onTooLarge(event);
      continue;
    }
    const bytes = Buffer.byteLength(text) + 1;
    if (parts.length > 0 && size + bytes > maxBytes) {
      messages.push(`${origin} [${parts.join(',')}]`);
      parts = [];
      size = head;
    }
    parts.push(text);
    size += bytes;
  }
  if (parts.length > 0) messages.push(`${origin} [${parts.join(',')}]`);
  return messages;
}

/** True when a message came from the bus with this origin (its own echo). */
export const isOwnWireMessage = (origin: string, text: string): boolean => text.length > origin.length && text.startsWith(origin) && text[origin.length] === ' ';

/** Parses what another replica sent; anything malformed is dropped rather than trusted. */
export function unpackWireEvents(text: string): { origin: string; events: WireEvent[] } | undefined {
  const space = text.indexOf(' ');
  if (space <= 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(space + 1));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const events: WireEvent[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) continue;
    const [topic, payload] = item as [unknown, unknown];
    if (typeof topic !== 'string' || !TOPICS.has(topic) || typeof payload !== 'object' || payload === null) continue;
    events.push({ topic: topic as Topic, payload: payload as GatewayEvents[Topic] });
  }
  return { origin: text.slice(0, space), events };
}
