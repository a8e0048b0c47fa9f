import { z } from 'zod';
import { parseHostList } from './core/routing/upstream-host-policy.js';

const optionalString = z
  .string()
  .transform((v) => (v.trim() === '' ? undefined : v.trim()))
  .optional();

/** Comma-separated host names, `*.domain`, IP addresses or CIDR ranges; an entry of another form stops the start. */
const hostList = optionalString.superRefine((value, ctx) => {
  try {
    parseHostList(value);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATA_DIR: z.string().min(1).default('./data'),
  ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^(?:[A-Fa-f0-9]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex characters or base64')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  NODE_ENV: z.string().default('development'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  /**
   * Seconds a client has to send a whole request, headers and body. Node
   * stops this clock once the request is read, so a long answer or stream
   * is not cut by it.
   */
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(30),
  /** Seconds a client has to send a request's headers (slowloris); at most REQUEST_TIMEOUT_SECONDS. */
  HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(10),
  /** Seconds an idle keep-alive connection stays open after its last answer (above a load balancer's 60 s). */
  KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(72),
  /** Open connections one client address may hold; 0 is no cap (behind a proxy every client shares its address). */
  MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(0),
  /** Seconds a request may take end to end, failovers included, when it sets no `timeout` of its own. */
  REQUEST_DEADLINE_SECONDS: z.coerce.number().positive().max(86_400).default(600),
  /**
   * Seconds an upstream has to send its response headers once it has the
   * request (a non-streamed answer is generated before they come). Past it
   * the call counts as a failure of the key and the request fails over.
   */
  UPSTREAM_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  /** Seconds an upstream may go silent while sending a body, a stream's events included; past it, as above (a stream fails over only before its first chunk). */
  UPSTREAM_BODY_TIMEOUT_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  /** Seconds a reservation may stay open before recovery settles it. */
  STALE_RESERVATION_SECONDS: z.coerce.number().int().positive().default(900),
  /** Days captured payloads (projects with capturePayloads) are kept before the hourly purge deletes them. */
  PAYLOAD_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(7),
  /** Days stored Responses API responses (store=true) are kept before the purge deletes them. */
  RESPONSES_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  /** A replica silent for three heartbeats is dead and its reservations are recovered. */
  REPLICA_HEARTBEAT_SECONDS: z.coerce.number().positive().max(300).default(10),
  /**
   * How far V8 lets the old generation grow past what survived the last full
   * collection before the next one (V8's --heap-growing-percent; 0 keeps V8's
   * own heuristics, which let it double). See the README's memory note.
   */
  HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(20),
  /** Upstream hosts never called (see core/routing/upstream-host-policy.ts). */
  UPSTREAM_HOSTS_DENY: hostList,
  /** When set, the only upstream hosts called. */
  UPSTREAM_HOSTS_ALLOW: hostList,
  /** Refuse private, loopback, link-local and other non-public upstream addresses; unset: true when NODE_ENV=production. */
  UPSTREAM_DENY_PRIVATE: optionalString
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }).optional())
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  /** Prometheus metrics at GET /metrics; false turns collection off entirely. */
  METRICS_ENABLED: optionalString
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }).optional())
    .transform((v) => v !== 'false'),
  /** A bearer token that may read /metrics (operator tokens may too); never logged. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** /metrics open to anyone who can reach it (a scrape network of its own). */
  METRICS_PUBLIC: optionalString
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }).optional())
    .transform((v) => v === 'true'),
  /** When set, /metrics is served on this port (same HOST) and no longer on PORT. */
  METRICS_PORT: optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(1).max(65535).optional()),
  /** Adds a project label to the request, token and spend families (one series per project). */
  METRICS_PER_PROJECT: optionalString
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }).optional())
    .transform((v) => v === 'true'),
  DEMO_PROJECT_BALANCE: z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal amount').default('10'),
  // The variables that seed upstream keys are each adapter's `seedEnv`, read by first-start.
});

const SECRET_VARS = new Set(['ADMIN_TOKEN', 'ENCRYPTION_KEY', 'DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN']);

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment; the error names the first wrong variable in one line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(env);
  if (result.success) {
    if (result.data.DATABASE_URL && !result.data.ENCRYPTION_KEY) {
      throw new ConfigError('ENCRYPTION_KEY: required when DATABASE_URL is set (32 bytes as 64 hex characters)');
    }
    if (result.data.HEADERS_TIMEOUT_SECONDS > result.data.REQUEST_TIMEOUT_SECONDS) {
      throw new ConfigError(`HEADERS_TIMEOUT_SECONDS: must be at most REQUEST_TIMEOUT_SECONDS (${result.data.REQUEST_TIMEOUT_SECONDS})`);
    }
    // A hanging upstream must be cut (and its key marked) while the request can still fail over.
    for (const name of ['UPSTREAM_HEADERS_TIMEOUT_SECONDS', 'UPSTREAM_BODY_TIMEOUT_SECONDS'] as const) {
      if (result.data[name] >= result.data.REQUEST_DEADLINE_SECONDS) {
        throw new ConfigError(`${name}: must be less than REQUEST_DEADLINE_SECONDS (${result.data.REQUEST_DEADLINE_SECONDS})`);
      }
    }
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'environment');
  // Never echo a secret back into a log line.
  const shown = SECRET_VARS.has(name) ? '' : ` (got ${JSON.stringify(env[name] ?? null)})`;
  throw new ConfigError(`${name}: ${issue.message}${shown}`);
}
