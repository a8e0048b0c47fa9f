import { randomUUID } from 'node:crypto';
import type { GatewayEvents, Topic } from './event-bus.js';

// The envelope cross-replica buses send: the publishing bus's origin id (so a
// bus can drop its own echo), the topic and the payload, as one JSON string.

const TOPICS: ReadonlySet<string> = new Set<Topic>(['usage', 'health', 'invalidate', 'balance']);

export interface WireEvent<T extends Topic = Topic> {
  origin: string;
  topic: T;
  payload: GatewayEvents[T];
}

export const newOrigin = (): string => randomUUID();

/** Postgres refuses a NOTIFY payload of 8000 bytes or more; leave room for the envelope's quoting. */
export const MAX_WIRE_BYTES = 7_900;

export function encodeWireEvent<T extends Topic>(origin: string, topic: T, payload: GatewayEvents[T]): string {
  return JSON.stringify({ origin, topic, payload });
}

/**
 * Makes an event fit the wire limit when it can without losing its meaning:
 * only free text (a health event's last error) is cut. Returns undefined
 * when the event is still too large, so the caller can log and skip it.
 */
export function fitWireEvent<T extends Topic>(origin: string, topic: T, payload: GatewayEvents[T], maxBytes = MAX_WIRE_BYTES): string | undefined {
  const text = encodeWireEvent(origin, topic, payload);
  if (Buffer.byteLength(text) <= maxBytes) return text;
  if (topic === 'health') {
    const trimmed = { ...(payload as GatewayEvents['health']), lastError: '(too long to relay)' };
    const again = encodeWireEvent(origin, 'health', trimmed);
    if (Buffer.byteLength(again) <= maxBytes) return again;
  }
  return undefined;
}

/** Parses what another replica sent; anything malformed is ignored rather than trusted. */
export function decodeWireEvent(text: string): WireEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { origin, topic, payload } = value as Record<string, unknown>;
  if (typeof origin !== 'string' || typeof topic !== 'string' || !TOPICS.has(topic)) return undefined;
  if (typeof payload !== 'object' || payload === null) return undefined;
  return { origin, topic: topic as Topic, payload: payload as GatewayEvents[Topic] };
}
