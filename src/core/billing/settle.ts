import { sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { rowsOf } from '../../db/rows.js';
import { ledgerEntries } from '../../db/schema.js';
import { newId } from '../ids.js';
import { formatMoney, parseMoney } from '../money.js';

export type SettledStatus = 'ok' | 'error' | 'aborted';

export interface Settlement {
  requestId: string;
  status: SettledStatus;
  httpStatus: number;
  errorCode?: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** Real cost in pico-units; the charge is capped at the reservation. */
  cost: bigint;
  provider?: string | null;
  upstreamModel?: string | null;
  upstreamKeyId?: string | null;
  latencyMs?: number | null;
  ttftMs?: number | null;
  attempts: number;
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
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

function add<K>(map: Map<K, { charged: bigint; release: bigint }>, key: K, charged: bigint, release: bigint): void {
  const entry = map.get(key) ?? { charged: 0n, release: 0n };
  entry.charged += charged;
  entry.release += release;
  map.set(key, entry);
}

/**
 * Closes many reservations at their real cost in one transaction: the usage
 * rows, each project's balance and reserved amount, each lease, each key's
 * spend, and one ledger entry per charged request. Idempotent per request:
 * only rows still `reserved` are settled, so a retry or the recovery pass
 * never charges twice. A charge never exceeds its reservation (reserve ≥
 * settle), so no balance goes negative. Rows are locked project-first, then
 * keys, in id order, the same order reservations take, so batches from
 * several replicas cannot deadlock.
 */
export async function settleMany(db: Db, settlements: Settlement[]): Promise<SettleResult[]> {
  if (settlements.length === 0) return [];
  const input = settlements.map((s) => ({
    id: s.requestId,
    status: s.status,
    http_status: s.httpStatus,
    error_code: s.errorCode ?? null,
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    cached_tokens: s.cachedTokens,
    reasoning_tokens: s.reasoningTokens,
    cost: formatMoney(s.cost < 0n ? 0n : s.cost),
    provider: s.provider ?? null,
    upstream_model: s.upstreamModel ?? null,
    upstream_key_id: s.upstreamKeyId ?? null,
    latency_ms: s.latencyMs ?? null,
    ttft_ms: s.ttftMs ?? null,
    attempts: s.attempts,
  }));
  return db.transaction(async (tx) => {
    const rows = rowsOf<SettledRow>(
      await tx.execute(sql`
        UPDATE usage_records u SET
          status = v.status, http_status = v.http_status, error_code = v.error_code,
          prompt_tokens = v.prompt_tokens, completion_tokens = v.completion_tokens,
          cached_tokens = v.cached_tokens, reasoning_tokens = v.reasoning_tokens,
          cost = LEAST(v.cost, u.reserved_cost),
          provider = v.provider, upstream_model = v.upstream_model, upstream_key_id = v.upstream_key_id,
          latency_ms = v.latency_ms, ttft_ms = v.ttft_ms, attempts = v.attempts, settled_at = now()
        FROM jsonb_to_recordset(${json(input)}) AS v(
          id text, status text, http_status int, error_code text, prompt_tokens int, completion_tokens int,
          cached_tokens int, reasoning_tokens int, cost numeric, provider text, upstream_model text,
          upstream_key_id text, latency_ms int, ttft_ms int, attempts int)
        WHERE u.id = v.id AND u.status = 'reserved'
        RETURNING u.id, u.project_id, u.api_key_id, u.lease_id, u.reserved_cost::text AS reserved_cost,
          u.cost::text AS cost, u.created_at, u.test, u.stream, u.model_id`),
    );
    if (rows.length === 0) return [];

    // A lease-backed charge leaves the lease (and the project's reserved) as it
    // is paid; a per-request reservation is released whole from project and key.
    const byProject = new Map<string, { charged: bigint; release: bigint }>();
    const byKey = new Map<string, { charged: bigint; release: bigint }>();
    const byLease = new Map<string, { charged: bigint; release: bigint }>();
    for (const r of rows) {
      const charged = parseMoney(r.cost);
      const reserved = parseMoney(r.reserved_cost);
      if (r.lease_id) {
        add(byProject, r.project_id, charged, charged);
        add(byLease, r.lease_id, charged, 0n);
        add(byKey, r.api_key_id, charged, 0n);
      } else {
        add(byProject, r.project_id, charged, reserved);
        add(byKey, r.api_key_id, charged, reserved);
      }
    }
    const projectIds = [...byProject.keys()].sort();
    const keyIds = [...byKey.keys()].sort();
    await tx.execute(sql`SELECT 1 FROM projects WHERE id IN (SELECT jsonb_array_elements_text(${json(projectIds)})) ORDER BY id FOR UPDATE`);
    await tx.execute(sql`SELECT 1 FROM api_keys WHERE id IN (SELECT jsonb_array_elements_text(${json(keyIds)})) ORDER BY id FOR UPDATE`);
    const projectRows = rowsOf<{ id: string; balance: string; reserved: string }>(
      await tx.execute(sql`
        UPDATE projects p SET balance = p.balance - v.charged, reserved = p.reserved - v.release
        FROM jsonb_to_recordset(${json(projectIds.map((id) => ({ id, charged: formatMoney(byProject.get(id)!.charged), release: formatMoney(byProject.get(id)!.release) })))}) AS v(id text, charged numeric, release numeric)
        WHERE p.id = v.id
        RETURNING p.id, p.balance::text AS balance, p.reserved::text AS reserved`),
    );
    if (byLease.size > 0) {
      await tx.execute(sql`
        UPDATE leases l SET amount = l.amount - v.charged
        FROM jsonb_to_recordset(${json([...byLease].map(([id, e]) => ({ id, charged: formatMoney(e.charged) })))}) AS v(id text, charged numeric)
        WHERE l.id = v.id`);
    }
    const rollover = sql`k.spend_limit_period = 'monthly' AND k.period_start < date_trunc('month', now())`;
    await tx.execute(sql`
      UPDATE api_keys k SET
        reserved = k.reserved - v.release,
        period_spent = (CASE WHEN ${rollover} THEN 0 ELSE k.period_spent END) + v.charged,
        period_start = (CASE WHEN ${rollover} THEN date_trunc('month', now()) ELSE k.period_start END),
        spent_total = k.spent_total + v.charged,
        last_used_at = now()
      FROM jsonb_to_recordset(${json(keyIds.map((id) => ({ id, charged: formatMoney(byKey.get(id)!.charged), release: formatMoney(byKey.get(id)!.release) })))}) AS v(id text, charged numeric, release numeric)
      WHERE k.id = v.id`);

    // Ledger entries in settlement order; each one's balance_after is the
    // project's final balance plus the charges that come after it.
    const finals = new Map(projectRows.map((p) => [p.id, { balance: parseMoney(p.balance), reserved: parseMoney(p.reserved) }]));
    const running = new Map([...finals].map(([id, f]) => [id, f.balance]));
    const entries: Array<typeof ledgerEntries.$inferInsert> = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i]!;
      const charged = parseMoney(r.cost);
      if (charged === 0n) continue;
      const after = running.get(r.project_id)!;
      entries.push({ id: newId('led'), projectId: r.project_id, kind: 'charge', amount: formatMoney(-charged), balanceAfter: formatMoney(after), requestId: r.id, reason: `usage ${r.model_id}` });
      running.set(r.project_id, after + charged);
    }
    if (entries.length > 0) await tx.insert(ledgerEntries).values(entries.reverse());

    return rows.map((r) => ({
      requestId: r.id,
      projectId: r.project_id,
      apiKeyId: r.api_key_id,
      leaseId: r.lease_id,
      reserved: parseMoney(r.reserved_cost),
      charged: parseMoney(r.cost),
      projectBalance: finals.get(r.project_id)!.balance,
      projectReserved: finals.get(r.project_id)!.reserved,
      createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
      test: r.test,
      stream: r.stream,
      modelId: r.model_id,
    }));
  });
}

/** One settlement; undefined when the request was already settled. */
export async function settle(db: Db, s: Settlement): Promise<SettleResult | undefined> {
  const [result] = await settleMany(db, [s]);
  return result;
}
