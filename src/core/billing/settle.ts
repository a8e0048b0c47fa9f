import { sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { preparedSql } from '../../db/prepared-sql.js';
import { newOrderedId } from '../../contract/ids.js';
import { formatMoney, parseMoney } from '../money.js';
import type { UsageCounts } from './usage-counts.js';

export type SettledStatus = 'ok' | 'error' | 'aborted';

export interface Settlement extends UsageCounts {
  requestId: string;
  status: SettledStatus;
  httpStatus: number;
  errorCode?: string | null;
  /** Real cost in pico-units; the charge is capped at the reservation. */
  cost: bigint;
  provider?: string | null;
  upstreamModel?: string | null;
  upstreamKeyId?: string | null;
  latencyMs?: number | null;
  ttftMs?: number | null;
  attempts: number;
  /** The upstream attempts, when worth keeping (several, or a failed one). */
  attemptLog?: readonly unknown[] | null;
  /** From arrival until the reservation was held. */
  admissionMs?: number | null;
  traceId?: string | null;
}

export interface SettleResult {
  requestId: string;
  projectId: string;
  apiKeyId: string;
  leaseId: string | null;
  reserved: bigint;
  charged: bigint;
  /** The project's balance and reserved amount after this batch. */
  projectBalance: bigint;
  projectReserved: bigint;
  createdAt: Date;
  test: boolean;
  stream: boolean;
  modelId: string;
}

interface SettledRow {
  id: string;
  project_id: string;
  api_key_id: string;
  lease_id: string | null;
  reserved_cost: string;
  cost: string;
  created_at: string | Date;
  test: boolean;
  stream: boolean;
  model_id: string;
  project_balance: string;
  project_reserved: string;
}

// The rows to settle travel as one JSON parameter, so the statement text never changes.
// Read as json, not jsonb: json_to_recordset parses the text once, where a
// jsonb cast first builds the binary document (10.3 against 5.7 µs a row on
// the bench machine; ~7 % of Postgres's CPU per request at 50 connections).
// A row is found by its primary key and counts as open while settled_at is
// null (set by every settlement and rejection, never by a reservation).
// Asking `status = 'reserved'` instead let the planner read the rows through
// the partial index usage_reserved_idx, whose entries for settled rows stay
// until vacuum (a bitmap scan never marks them dead): 4 ms of a 12 ms
// settlement after 48k requests on the bench, growing with every request
// since the last vacuum.
export const settleQuery = sql`
      WITH v AS (
        SELECT * FROM json_to_recordset(${sql.placeholder('rows')}::text::json) AS v(
          ord int, id text, status text, http_status int, error_code text, prompt_tokens int, completion_tokens int,
          cached_tokens int, reasoning_tokens int, cache_write_tokens int, cache_write_1h_tokens int,
          cost numeric, provider text, upstream_model text, upstream_key_id text, latency_ms int, ttft_ms int,
          attempts int, attempt_log json, admission_ms int, trace_id text, ledger_id text)
      ),
      settled AS (
        UPDATE usage_records u SET
          status = v.status, http_status = v.http_status, error_code = v.error_code,
          prompt_tokens = v.prompt_tokens, completion_tokens = v.completion_tokens,
          cached_tokens = v.cached_tokens, reasoning_tokens = v.reasoning_tokens,
          cache_write_tokens = v.cache_write_tokens, cache_write_1h_tokens = v.cache_write_1h_tokens,
          cost = LEAST(v.cost, u.reserved_cost),
          provider = v.provider, upstream_model = v.upstream_model, upstream_key_id = v.upstream_key_id,
          latency_ms = v.latency_ms, ttft_ms = v.ttft_ms, attempts = v.attempts,
          attempt_log = v.attempt_log::jsonb, admission_ms = v.admission_ms, trace_id = v.trace_id, settled_at = now()
        FROM v
        WHERE u.id = v.id AND u.settled_at IS NULL
        RETURNING v.ord, v.ledger_id, u.id, u.project_id, u.api_key_id, u.lease_id, u.reserved_cost, u.cost,
          u.created_at, u.test, u.stream, u.model_id
      ),
      by_project AS (
        SELECT project_id, sum(cost) AS charged,
          sum(CASE WHEN lease_id IS NULL THEN reserved_cost ELSE cost END) AS release
        FROM settled GROUP BY project_id
      ),
      p AS (
        UPDATE projects p SET balance = p.balance - b.charged, reserved = p.reserved - b.release
        FROM by_project b WHERE p.id = b.project_id
        RETURNING p.id, p.balance, p.reserved
      ),
      l AS (
        UPDATE leases l SET amount = l.amount - b.charged
        FROM (SELECT lease_id, sum(cost) AS charged FROM settled WHERE lease_id IS NOT NULL GROUP BY lease_id) b
        WHERE l.id = b.lease_id
      ),
      k AS (
        UPDATE api_keys k SET
          reserved = k.reserved - b.release,
          period_spent = (CASE WHEN k.spend_limit_period = 'monthly' AND k.period_start < date_trunc('month', now())
                          THEN 0 ELSE k.period_spent END) + b.charged,
          period_start = (CASE WHEN k.spend_limit_period = 'monthly' AND k.period_start < date_trunc('month', now())
                          THEN date_trunc('month', now()) ELSE k.period_start END),
          spent_total = k.spent_total + b.charged,
          last_used_at = now()
        FROM (SELECT api_key_id, sum(cost) AS charged,
                sum(CASE WHEN lease_id IS NULL THEN reserved_cost ELSE 0 END) AS release
              FROM settled GROUP BY api_key_id) b
        WHERE k.id = b.api_key_id
      ),
      ledger AS (
        INSERT INTO ledger_entries (id, project_id, kind, amount, balance_after, request_id, reason, actor)
        SELECT s.ledger_id, s.project_id, 'charge', -s.cost,
          p.balance + coalesce(sum(s.cost) OVER (PARTITION BY s.project_id ORDER BY s.ord
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0),
          s.id, 'usage ' || s.model_id, 'system'
        FROM settled s JOIN p ON p.id = s.project_id
        WHERE s.cost > 0
      )
      SELECT s.id, s.project_id, s.api_key_id, s.lease_id, s.reserved_cost::text AS reserved_cost,
        s.cost::text AS cost, s.created_at, s.test, s.stream, s.model_id,
        p.balance::text AS project_balance, p.reserved::text AS project_reserved
      FROM settled s JOIN p ON p.id = s.project_id
      ORDER BY s.ord`;

const settleStatement = preparedSql<SettledRow>('settle_many', settleQuery);

/** The statement's one parameter: the settlements as the JSON its `v` rows are read from. */
export function settlementRows(settlements: Settlement[]): string {
  return JSON.stringify(
    settlements.map((s, ord) => ({
      ord,
      id: s.requestId,
      status: s.status,
      http_status: s.httpStatus,
      error_code: s.errorCode ?? null,
      prompt_tokens: s.promptTokens,
      completion_tokens: s.completionTokens,
      cached_tokens: s.cachedTokens,
      reasoning_tokens: s.reasoningTokens,
      cache_write_tokens: s.cacheWriteTokens ?? 0,
      cache_write_1h_tokens: s.cacheWrite1hTokens ?? 0,
      cost: formatMoney(s.cost < 0n ? 0n : s.cost),
      provider: s.provider ?? null,
      upstream_model: s.upstreamModel ?? null,
      upstream_key_id: s.upstreamKeyId ?? null,
      latency_ms: s.latencyMs ?? null,
      ttft_ms: s.ttftMs ?? null,
      attempts: s.attempts,
      attempt_log: s.attemptLog ?? null,
      admission_ms: s.admissionMs ?? null,
      trace_id: s.traceId ?? null,
      // The charge's ledger entry, made here so ledger ids have one shape (newOrderedId); a request
      // that costs nothing gets none (its capped charge is 0 too), so no id is made for it.
      ledger_id: s.cost > 0n ? newOrderedId('led') : null,
    })),
  );
}

/**
 * Closes many reservations at their real cost in ONE statement (one write
 * round trip, atomic; the transaction around it only scopes its planner
 * setting): the usage rows, each project's balance
 * and reserved amount, each lease, each key's spend, and one ledger entry per
 * charged request whose balance_after follows the batch's order.
 * Idempotent per request: only rows still `reserved` are settled, so a retry
 * or the recovery pass never charges twice. A charge never exceeds its
 * reservation (reserve ≥ settle), so no balance goes negative. A lease-backed
 * charge leaves the lease (and the project's reserved) as it is paid; a
 * per-request reservation is released whole from project and key.
 */
export async function settleMany(db: Db, settlements: Settlement[]): Promise<SettleResult[]> {
  if (settlements.length === 0) return [];
  const input = settlementRows(settlements);
  const rows = await db.transaction(async (tx) => {
    // Planned for the table as it is now, every time: Postgres otherwise keeps
    // the generic plan it made while usage_records was small, a scan of the
    // whole table, so each settlement cost more than the last (266 ms for
    // 256 rows after 640k requests) and the queue outgrew the writes.
    // Parsing stays cached.
    await tx.execute(sql`SET LOCAL plan_cache_mode = force_custom_plan`);
    return settleStatement(tx, { rows: input });
  });
  return rows.map((r) => ({
    requestId: r.id,
    projectId: r.project_id,
    apiKeyId: r.api_key_id,
    leaseId: r.lease_id,
    reserved: parseMoney(r.reserved_cost),
    charged: parseMoney(r.cost),
    projectBalance: parseMoney(r.project_balance),
    projectReserved: parseMoney(r.project_reserved),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    test: r.test,
    stream: r.stream,
    modelId: r.model_id,
  }));
}

/** One settlement; undefined when the request was already settled. */
export async function settle(db: Db, s: Settlement): Promise<SettleResult | undefined> {
  const [result] = await settleMany(db, [s]);
  return result;
}
