// Fields of the gateway's own dialect that must never reach an upstream:
// the seed's extensions and the mock's test-mode switches.
const GATEWAY_FIELDS = new Set(['timeout', 'think', 'deepsearch', 'thinking_budget', 'safety_settings']);

export const isGatewayField = (key: string): boolean => GATEWAY_FIELDS.has(key) || key.startsWith('mock');

const NOTHING: ReadonlySet<string> = new Set();

/**
 * A shallow copy of `body` without the gateway's own fields, nor those in
 * `skip` (fields the caller sets itself: skipped, not deleted after, as a
 * delete turns the copy into a slower dictionary-mode object). A loop, as
 * entries() made an array per field of every request; an own `__proto__`
 * (Fastify refuses such bodies already) would set the copy's prototype, so it is left out.
 */
export function withoutGatewayFields(body: Record<string, unknown>, skip: ReadonlySet<string> = NOTHING): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) if (key !== '__proto__' && !isGatewayField(key) && !skip.has(key)) out[key] = body[key];
  return out;
}
