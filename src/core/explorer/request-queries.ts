import { and, desc, eq, getTableColumns, gte, inArray, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Endpoint } from '../../contract/endpoints.js';
import type { Db } from '../../db/open-database.js';
import { upstreamKeys, usageRecords } from '../../db/schema.js';
import { cursorAt, keysetPage, type Page, type PageArgs } from '../admin/keyset-page.js';
import { GatewayError } from '../errors.js';
import type { AttemptOutcome } from '../routing/attempt-record.js';
import { type UsageFilter, type UsageRow, usageConditions } from '../usage/usage-queries.js';

// The request explorer's read side: one request, or a filtered page of
// them, each with its upstream attempts (named by their key's label) and
// the phases its time went to. Everything comes from the usage row; the
// attempt log is there when a request had more than one attempt or a
// failed one, otherwise the row's own route is its one attempt.

export interface RequestFilter extends Pick<UsageFilter, 'projectId' | 'apiKeyId' | 'model' | 'statuses' | 'from' | 'to'> {
  door?: Endpoint | null;
  /** Requests that took at least this long from reservation to close. */
  minDurationMs?: number | null;
}

export interface ExplorerAttempt {
  number: number;
  provider: string;
  modelId: string;
  upstreamModel: string | null;
  upstreamKeyId: string | null;
  upstreamKeyLabel: string | null;
  outcome: AttemptOutcome;
  upstreamStatus: number | null;
  error: string | null;
  durationMs: number | null;
  startedAt: Date | null;
  /** True when no attempt log was kept and the attempt is read from the row's route (one successful attempt). */
  inferred: boolean;
}

export interface RequestPhases {
  /** Arrival to the reservation held (authentication, validation, permission, rate limit, reserve). */
  admissionMs: number | null;
  /**
   * The reservation's row written (its created_at, the database's clock) to
   * the first upstream attempt's start (the gateway's clock): what dispatch
   * waited for the reservation. Known when the attempt log was kept.
   */
  reservationWaitMs: number | null;
  /** Reservation to the first byte the client got: the first token of a stream, the whole answer otherwise. */
  ttfbMs: number | null;
  /** Reservation to close. */
  latencyMs: number | null;
  /** Arrival to close: admission plus latency. */
  totalMs: number | null;
}

export interface ExplorerRequest {
  row: UsageRow;
  attempts: ExplorerAttempt[];
  phases: RequestPhases;
}

const attemptLogSchema = z.array(
  z.object({
    attempt: z.number(),
    modelId: z.string(),
    provider: z.string(),
    upstreamModel: z.string(),
    upstreamKeyId: z.string().nullable(),
    outcome: z.string(),
    upstreamStatus: z.number().nullable(),
    error: z.string().nullable(),
    startedAt: z.number(),
    durationMs: z.number(),
  }),
);

type LoggedAttempt = z.infer<typeof attemptLogSchema>[number];

function loggedAttempts(row: UsageRow): LoggedAttempt[] | undefined {
  if (row.attemptLog === null || row.attemptLog === undefined) return undefined;
  const parsed = attemptLogSchema.safeParse(row.attemptLog);
  return parsed.success ? parsed.data : undefined;
}

function attemptsOf(row: UsageRow, labels: ReadonlyMap<string, string>): ExplorerAttempt[] {
  const label = (id: string | null) => (id ? (labels.get(id) ?? null) : null);
  const logged = loggedAttempts(row);
  if (logged) {
    return logged.map((a) => ({
      number: a.attempt,
      provider: a.provider,
      modelId: a.modelId,
      upstreamModel: a.upstreamModel,
      upstreamKeyId: a.upstreamKeyId,
      upstreamKeyLabel: label(a.upstreamKeyId),
      outcome: a.outcome as AttemptOutcome,
      upstreamStatus: a.upstreamStatus,
      error: a.error,
      durationMs: a.durationMs,
      startedAt: new Date(a.startedAt),
      inferred: false,
    }));
  }
  // No log: at most one attempt, and it succeeded (a failed one would have been logged).
  if (row.attempts === 0 || !row.provider) return [];
  return [
    {
      number: 1,
      provider: row.provider,
      modelId: row.modelId,
      upstreamModel: row.upstreamModel,
      upstreamKeyId: row.upstreamKeyId,
      upstreamKeyLabel: label(row.upstreamKeyId),
      outcome: 'ok',
      upstreamStatus: null,
      error: null,
      durationMs: row.stream ? row.ttftMs : row.latencyMs,
      startedAt: null,
      inferred: true,
    },
  ];
}

function phasesOf(row: UsageRow): RequestPhases {
  const first = loggedAttempts(row)?.[0];
  const answered = row.status !== 'rejected' && row.status !== 'reserved';
  return {
    admissionMs: row.admissionMs,
    reservationWaitMs: first ? Math.max(0, first.startedAt - row.createdAt.getTime()) : null,
    ttfbMs: !answered ? null : row.stream ? row.ttftMs : row.status === 'ok' ? row.latencyMs : null,
    latencyMs: row.latencyMs,
    totalMs: row.latencyMs === null ? null : (row.admissionMs ?? 0) + row.latencyMs,
  };
}

async function keyLabels(db: Db, rows: readonly UsageRow[]): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const row of rows) {
    if (row.upstreamKeyId) ids.add(row.upstreamKeyId);
    for (const a of loggedAttempts(row) ?? []) if (a.upstreamKeyId) ids.add(a.upstreamKeyId);
  }
  if (ids.size === 0) return new Map();
  const found = await db.select({ id: upstreamKeys.id, label: upstreamKeys.label }).from(upstreamKeys).where(inArray(upstreamKeys.id, [...ids]));
  return new Map(found.map((k) => [k.id, k.label]));
}

const explore = (row: UsageRow, labels: ReadonlyMap<string, string>): ExplorerRequest => ({ row, attempts: attemptsOf(row, labels), phases: phasesOf(row) });

export async function findRequest(db: Db, id: string): Promise<ExplorerRequest | undefined> {
  const [row] = await db.select().from(usageRecords).where(eq(usageRecords.id, id)).limit(1);
  return row ? explore(row, await keyLabels(db, [row])) : undefined;
}

/** Newest first, keyset-paged (core/admin/keyset-page.ts). */
export async function listRequests(db: Db, filter: RequestFilter, page: PageArgs): Promise<Page<ExplorerRequest & { id: string }>> {
  const conditions: SQL[] = usageConditions(filter);
  const min = filter.minDurationMs;
  if (min !== null && min !== undefined && (!Number.isInteger(min) || min < 0)) {
    throw new GatewayError('invalid_request', 'minDurationMs must be a whole number of milliseconds, 0 or more.', { param: 'minDurationMs' });
  }
  if (filter.door) conditions.push(eq(usageRecords.endpoint, filter.door));
  if (filter.minDurationMs !== null && filter.minDurationMs !== undefined) conditions.push(gte(usageRecords.latencyMs, filter.minDurationMs));
  const rows = await keysetPage(page, usageRecords, (after, limit) =>
    db
      .select({ ...getTableColumns(usageRecords), cursorAt: cursorAt(usageRecords.createdAt) })
      .from(usageRecords)
      .where(and(...conditions, after))
      .orderBy(desc(usageRecords.createdAt), desc(usageRecords.id))
      .limit(limit),
  );
  const labels = await keyLabels(db, rows.edges.map((e) => e.node));
  return { ...rows, edges: rows.edges.map((e) => ({ cursor: e.cursor, node: { id: e.node.id, ...explore(e.node, labels) } })) };
}
