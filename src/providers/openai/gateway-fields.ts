// Fields of the gateway's own dialect that must never reach an upstream:
// the seed's extensions and the mock's test-mode switches.
const GATEWAY_FIELDS = new Set(['timeout', 'think', 'deepsearch']);

export const isGatewayField = (key: string): boolean => GATEWAY_FIELDS.has(key) || key.startsWith('mock');

/** A shallow copy of `body` without the gateway's own fields. */
export function withoutGatewayFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !isGatewayField(key)));
}
