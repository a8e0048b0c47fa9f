// Whether an error means the database could not be reached (down, restarting,
// the connection cut), as opposed to a statement it refused. The first is
// the gateway's weather: a client should retry, and the driver reconnects by
// itself; the second is a fault of ours.

// Node's socket errors and postgres.js' own connection errors.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
]);

// SQLSTATE class 08 (connection exception); 57P01-57P03: the server is
// shutting down, crashed, or cannot take connections yet (starting up).
const unavailableSqlState = (code: string) => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';

/** True when `e`, or an error it was caused by (drizzle wraps the driver's), says the database is unreachable. */
export function isDatabaseUnavailable(e: unknown): boolean {
  let current: unknown = e;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && unavailableSqlState(code)))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
