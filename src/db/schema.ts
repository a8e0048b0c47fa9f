// The whole product's tables, in one place. Money columns are numeric with 12
// decimals (pico-units) so every price × tokens product is exact; see
// src/core/money.ts for the conversion to bigint on the JS side.
import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  customType,
} from 'drizzle-orm/pg-core';
import { ENDPOINTS } from '../contract/endpoints.js';

const money = (name: string) => numeric(name, { precision: 30, scale: 12 });
const price = (name: string) => numeric(name, { precision: 20, scale: 6 });
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: ['active', 'archived'] }).notNull().default('active'),
  currency: text('currency').notNull().default('USD'),
  /** Always equals the sum of this project's ledger entries. */
  balance: money('balance').notNull().default('0'),
  /** Sum of the reserved (unsettled) worst-case costs of in-flight requests. */
  reserved: money('reserved').notNull().default('0'),
  rpmLimit: integer('rpm_limit'),
  tpmLimit: integer('tpm_limit'),
  /** Store redacted prompts and answers for the request explorer (an operator's choice, audited). */
  capturePayloads: boolean('capture_payloads').notNull().default(false),
  /** Regular expressions whose matches are replaced before a captured payload is stored. */
  redactPatterns: text('redact_patterns').array().notNull().default(sql`'{}'::text[]`),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    /** Public key id (`key_…`), safe to show and to put in URLs. */
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull().default(''),
    mode: text('mode', { enum: ['live', 'test'] }).notNull(),
    /** sha256 of the whole secret; the secret itself is never stored. */
    keyHash: text('key_hash').notNull(),
    /** Display prefix such as `pk_test_AbCd`. */
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    spendLimit: money('spend_limit'),
    spendLimitPeriod: text('spend_limit_period', { enum: ['total', 'monthly'] })
      .notNull()
      .default('total'),
    /** Settled spend in the current limit period (all time for `total`). */
    periodSpent: money('period_spent').notNull().default('0'),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull().defaultNow(),
    /** Settled spend over the key's whole life. */
    spentTotal: money('spent_total').notNull().default('0'),
    reserved: money('reserved').notNull().default('0'),
    rpmLimit: integer('rpm_limit'),
    tpmLimit: integer('tpm_limit'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('api_keys_key_hash_idx').on(t.keyHash), index('api_keys_project_idx').on(t.projectId)],
);

export const models = pgTable('models', {
  /** The public model id clients send (`gpt-4o-mini`). */
  id: text('id').primaryKey(),
  kind: text('kind', { enum: ['chat', 'embedding'] }).notNull(),
  ownedBy: text('owned_by').notNull(),
  /** Prices per 1M tokens in the deployment currency. */
  inputPrice: price('input_price').notNull().default('0'),
  outputPrice: price('output_price').notNull().default('0'),
  cachedInputPrice: price('cached_input_price'),
  /** Writing the provider's prompt cache (5-minute TTL); unset = 1.25 × input. */
  cacheWritePrice: price('cache_write_price'),
  /** Writing it with the 1-hour TTL; unset = 2 × input. */
  cacheWrite1hPrice: price('cache_write_1h_price'),
  contextWindow: integer('context_window'),
  /** Output ceiling used for the worst-case reservation when a request sets no max_tokens. */
  maxOutputTokens: integer('max_output_tokens'),
  /** Embedding vector size (embedding models). */
  dimensions: integer('dimensions'),
  /** Public model ids tried, in order, when every route of this model failed. */
  fallbacks: text('fallbacks').array().notNull().default(sql`'{}'::text[]`),
  capabilities: jsonb('capabilities').$type<ModelCapabilities>().notNull().default({}),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export interface ModelCapabilities {
  tools?: boolean;
  vision?: boolean;
  reasoning?: boolean;
  webSearch?: boolean;
}

export const modelRoutes = pgTable(
  'model_routes',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    upstreamModel: text('upstream_model').notNull(),
    /** Lower is tried first. */
    priority: integer('priority').notNull().default(0),
    weight: integer('weight').notNull().default(1),
  },
  (t) => [index('model_routes_model_idx').on(t.modelId)],
);

export const projectModelPermissions = pgTable(
  'project_model_permissions',
  {
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** A public model id, or `*` for every model in the catalogue. */
    modelId: text('model_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.modelId] })],
);

export const upstreamKeys = pgTable('upstream_keys', {
  id: text('id').primaryKey(),
  provider: text('provider').notNull(),
  label: text('label').notNull(),
  /** AES-256-GCM: base64 of iv ‖ tag ‖ ciphertext. */
  secretCiphertext: text('secret_ciphertext').notNull(),
  secretLast4: text('secret_last4').notNull(),
  baseUrl: text('base_url'),
  weight: integer('weight').notNull().default(1),
  priority: integer('priority').notNull().default(0),
  rpmLimit: integer('rpm_limit'),
  tpmLimit: integer('tpm_limit'),
  /** Upstream model names this key may serve; null = all of its provider's. */
  models: text('models').array(),
  status: text('status', { enum: ['active', 'disabled'] }).notNull().default('active'),
  disabledReason: text('disabled_reason'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    kind: text('kind', { enum: ['credit', 'adjustment', 'charge', 'refund'] }).notNull(),
    /** Signed: credits positive, charges negative. */
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    requestId: text('request_id'),
    reason: text('reason').notNull().default(''),
    actor: text('actor').notNull().default('system'),
    createdAt: createdAt(),
  },
  (t) => [
    index('ledger_project_time_idx').on(t.projectId, t.createdAt),
    // A request is charged at most once, whatever retries settlement takes.
    uniqueIndex('ledger_request_kind_idx').on(t.requestId, t.kind),
  ],
);

export const usageRecords = pgTable(
  'usage_records',
  {
    /** The request id (`req_…`), also sent as `x-request-id`. */
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    apiKeyId: text('api_key_id')
      .notNull()
      .references(() => apiKeys.id),
    endpoint: text('endpoint', { enum: ENDPOINTS }).notNull(),
    modelId: text('model_id').notNull(),
    provider: text('provider'),
    upstreamModel: text('upstream_model'),
    upstreamKeyId: text('upstream_key_id'),
    /** `reserved` until settled; then `ok`, `error`, `aborted`, or `rejected` (refused before any upstream call). */
    status: text('status', { enum: ['reserved', 'ok', 'error', 'aborted', 'rejected'] }).notNull(),
    httpStatus: integer('http_status'),
    errorCode: text('error_code'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    /** Part of promptTokens written to the provider's cache (5-minute and 1-hour TTLs). */
    cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
    cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
    reservedCost: money('reserved_cost').notNull().default('0'),
    cost: money('cost').notNull().default('0'),
    // Prices in force when the request ran, so old charges stay auditable.
    inputPrice: price('input_price').notNull().default('0'),
    outputPrice: price('output_price').notNull().default('0'),
    cachedInputPrice: price('cached_input_price').notNull().default('0'),
    cacheWritePrice: price('cache_write_price').notNull().default('0'),
    cacheWrite1hPrice: price('cache_write_1h_price').notNull().default('0'),
    latencyMs: integer('latency_ms'),
    ttftMs: integer('ttft_ms'),
    attempts: integer('attempts').notNull().default(0),
    /** Every upstream attempt (provider, key, outcome, status, duration), kept when there was more than one or it failed. */
    attemptLog: jsonb('attempt_log'),
    /** From arrival to the reservation held (authentication, validation, permission, rate limit, reserve). */
    admissionMs: integer('admission_ms'),
    /** The W3C trace id the request ran under, when tracing is on or the client sent one. */
    traceId: text('trace_id'),
    stream: boolean('stream').notNull().default(false),
    test: boolean('test').notNull().default(false),
    /** Which gateway process reserved it; recovery settles a dead replica's rows. */
    replicaId: text('replica_id').notNull(),
    /** The replica's escrow lease the reservation was taken from; null when reserved on the project row itself. */
    leaseId: text('lease_id'),
    createdAt: createdAt(),
    /** Set by every settlement and rejection: null exactly while `reserved` (the settlement finds open rows by it). */
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    index('usage_project_time_idx').on(t.projectId, t.createdAt),
    index('usage_model_time_idx').on(t.modelId, t.createdAt),
    index('usage_key_time_idx').on(t.apiKeyId, t.createdAt),
    index('usage_time_idx').on(t.createdAt),
    index('usage_reserved_idx')
      .on(t.createdAt)
      .where(sql`status = 'reserved'`),
  ],
);

export const adminTokens = pgTable(
  'admin_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: ['admin', 'viewer'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('admin_tokens_hash_idx').on(t.tokenHash)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    createdAt: createdAt(),
  },
  (t) => [index('audit_time_idx').on(t.createdAt)],
);

/**
 * Escrow a replica holds from a project's balance (counted in
 * projects.reserved) and reserves requests against in memory, so busy
 * projects do not serialise on their balance row. `amount` is what is still
 * held: the lease minus what its requests have been charged.
 */
export const leases = pgTable(
  'leases',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    replicaId: text('replica_id').notNull(),
    amount: money('amount').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('leases_replica_idx').on(t.replicaId), index('leases_project_idx').on(t.projectId)],
);

/** Live gateway processes; a replica whose heartbeat stopped has its reservations recovered. */
export const replicas = pgTable('replicas', {
  id: text('id').primaryKey(),
  hostname: text('hostname').notNull().default(''),
  pid: integer('pid'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Small key/value facts about this deployment (first-start markers). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: updatedAt(),
});

/**
 * Responses API objects (`resp_…`) kept for `store: true` and background
 * work: any replica rebuilds a `previous_response_id` chain from here.
 */
export const responses = pgTable(
  'responses',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    apiKeyId: text('api_key_id').notNull(),
    /** The usage row of the request that produced it. */
    requestId: text('request_id'),
    status: text('status', { enum: ['queued', 'in_progress', 'completed', 'incomplete', 'failed', 'cancelled'] }).notNull(),
    background: boolean('background').notNull().default(false),
    store: boolean('store').notNull().default(true),
    previousResponseId: text('previous_response_id'),
    /** The replica running it while queued or in progress; recovery fails a dead one's work. */
    replicaId: text('replica_id').notNull(),
    /** The response object as the API returns it. */
    body: jsonb('body').notNull(),
    /** This turn's input items with their ids, as input_items lists them. */
    inputItems: jsonb('input_items').notNull().default([]),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('responses_project_time_idx').on(t.projectId, t.createdAt),
    index('responses_time_idx').on(t.createdAt),
    index('responses_open_idx')
      .on(t.replicaId)
      .where(sql`status in ('queued', 'in_progress')`),
  ],
);

/** Captured prompts and answers (projects with capturePayloads), gzip-compressed after redaction. */
export const requestPayloads = pgTable(
  'request_payloads',
  {
    requestId: text('request_id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    request: bytea('request').notNull(),
    response: bytea('response'),
    createdAt: createdAt(),
  },
  (t) => [index('request_payloads_time_idx').on(t.createdAt)],
);
