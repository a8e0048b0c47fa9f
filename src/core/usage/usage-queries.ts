import { and, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { usageRecords } from '../../db/schema.js';
import { cursorAt, keysetPage, type PageArgs } from '../admin/keyset-page.js';
import { GatewayError } from '../errors.js';
import { parseMoney } from '../money.js';

// Who spent what on which model through which key: usage rows with filters,
// a summary, and time-bucketed aggregates computed in SQL over the
// (project|model|key, created_at) indexes.

export type UsageRow = typeof usageRecords.$inferSelect;
export type UsageStatus = UsageRow['status'];

export interface UsageFilter {
  projectId?: string | null;
  apiKeyId?: string | null;
  model?: string | null;
  provider?: string | null;
  upstreamKeyId?: string | null;
  statuses?: UsageStatus[] | null;
  test?: boolean | null;
  from?: Date | null;
  to?: Date | null;
}

export function usageConditions(filter: UsageFilter): SQL[] {
  const c: SQL[] = [];
  if (filter.projectId) c.push(eq(usageRecords.projectId, filter.projectId));
  if (filter.apiKeyId) c.push(eq(usageRecords.apiKeyId, filter.apiKeyId));
  if (filter.model) c.push(eq(usageRecords.modelId, filter.model));
  if (filter.provider) c.push(eq(usageRecords.provider, filter.provider));
  if (filter.upstreamKeyId) c.push(eq(usageRecords.upstreamKeyId, filter.upstreamKeyId));
  if (filter.statuses && filter.statuses.length > 0) c.push(inArray(usageRecords.status, filter.statuses));
  if (filter.test !== null && filter.test !== undefined) c.push(eq(usageRecords.test, filter.test));
  if (filter.from) c.push(gte(usageRecords.createdAt, filter.from));
  if (filter.to) c.push(lt(usageRecords.createdAt, filter.to));
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw new GatewayError('invalid_request', "Invalid time range: 'from' must be before 'to'.", { param: 'from' });
  }
  return c;
}

export function listUsage(db: Db, filter: UsageFilter, page: PageArgs) {
  const conditions = usageConditions(filter);
  return keysetPage(page, usageRecords, (after, limit) =>
    db
      .select({ ...getTableColumns(usageRecords), cursorAt: cursorAt(usageRecords.createdAt) })
      .from(usageRecords)
      .where(and(...conditions, after))
      .orderBy(desc(usageRecords.createdAt), desc(usageRecords.id))
      .limit(limit),
  );
}

/** One request's row; with `projectId`, only when it belongs to that project. */
export async function findUsageRecord(db: Db, id: string, projectId?: string): Promise<UsageRow | undefined> {
  const [row] = await db
    .select()
    .from(usageRecords)
    .where(and(eq(usageRecords.id, id), projectId === undefined ? undefined : eq(usageRecords.projectId, projectId)))
    .limit(1);
  return row;
}

export interface UsageTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** Part of promptTokens written to the provider's prompt cache, 5-minute TTL. */
  cacheWriteTokens: number;
  /** Written with the 1-hour TTL. */
  cacheWrite1hTokens: number;
  reasoningTokens: number;
  /** pico-units */
  cost: bigint;
  avgLatencyMs: number | null;
}

const ERROR_STATUSES = sql`('error', 'aborted', 'rejected')`;

const totalsColumns = {
  requests: sql<number>`count(*)::int`,
  errors: sql<number>`(count(*) filter (where ${usageRecords.status} in ${ERROR_STATUSES}))::int`,
  promptTokens: sql<string>`coalesce(sum(${usageRecords.promptTokens}), 0)::text`,
  completionTokens: sql<string>`coalesce(sum(${usageRecords.completionTokens}), 0)::text`,
  cachedTokens: sql<string>`coalesce(sum(${usageRecords.cachedTokens}), 0)::text`,
  cacheWriteTokens: sql<string>`coalesce(sum(${usageRecords.cacheWriteTokens}), 0)::text`,
  cacheWrite1hTokens: sql<string>`coalesce(sum(${usageRecords.cacheWrite1hTokens}), 0)::text`,
  reasoningTokens: sql<string>`coalesce(sum(${usageRecords.reasoningTokens}), 0)::text`,
  cost: sql<string>`coalesce(sum(${usageRecords.cost}), 0)::text`,
  avgLatencyMs: sql<number | null>`avg(${usageRecords.latencyMs})::float8`,
};

type TotalsRow = { [K in keyof typeof totalsColumns]: unknown };

function toTotals(row: TotalsRow): UsageTotals {
  return {
    requests: Number(row.requests),
    errors: Number(row.errors),
    promptTokens: Number(row.promptTokens),
    completionTokens: Number(row.completionTokens),
    cachedTokens: Number(row.cachedTokens),
    cacheWriteTokens: Number(row.cacheWriteTokens),
    cacheWrite1hTokens: Number(row.cacheWrite1hTokens),
    reasoningTokens: Number(row.reasoningTokens),
    cost: parseMoney(String(row.cost)),
    avgLatencyMs: row.avgLatencyMs === null || row.avgLatencyMs === undefined ? null : Math.round(Number(row.avgLatencyMs)),
  };
}

export async function usageTotals(db: Db, filter: UsageFilter): Promise<UsageTotals> {
  const [row] = await db.select(totalsColumns).from(usageRecords).where(and(...usageConditions(filter)));
  return toTotals(row!);
}

/** Totals for several projects in one query (GraphQL lists ask per project). */
export async function usageTotalsByProject(db: Db, projectIds: readonly string[], range: { from?: Date | null; to?: Date | null }): Promise<Map<string, UsageTotals>> {
  const rows = await db
    .select({ projectId: usageRecords.projectId, ...totalsColumns })
    .from(usageRecords)
    .where(and(inArray(usageRecords.projectId, [...projectIds]), ...usageConditions(range)))
    .groupBy(usageRecords.projectId);
  // What the one-project query answers for a project without usage.
  const empty = toTotals({ requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0, reasoningTokens: 0, cost: '0', avgLatencyMs: null });
  const byProject = new Map(projectIds.map((id) => [id, empty]));
  for (const { projectId, ...totals } of rows) byProject.set(projectId, toTotals(totals));
  return byProject;
}

export type TimeBucket = 'minute' | 'hour' | 'day';
export type UsageGroupBy = 'model' | 'project' | 'apiKey' | 'upstreamKey' | 'provider' | 'status';

const GROUP_COLUMNS = {
  model: usageRecords.modelId,
  project: usageRecords.projectId,
  apiKey: usageRecords.apiKeyId,
  upstreamKey: usageRecords.upstreamKeyId,
  provider: usageRecords.provider,
  status: usageRecords.status,
} as const;

export interface UsageAggregate extends UsageTotals {
  /** Start of the bucket (UTC); null when not bucketed by time. */
  bucketStart: Date | null;
  model: string | null;
  projectId: string | null;
  apiKeyId: string | null;
  upstreamKeyId: string | null;
  provider: string | null;
  status: UsageStatus | null;
}

/** More groups than this is a question for a data warehouse, not the admin API. */
export const MAX_AGGREGATE_ROWS = 5_000;
const BUCKET_SPAN_MS: Record<TimeBucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MAX_BUCKETS = 2_000;

export async function usageAggregates(db: Db, filter: UsageFilter, bucket: TimeBucket | null, groupBy: UsageGroupBy[]): Promise<UsageAggregate[]> {
  const conditions = usageConditions(filter);
  if (bucket) {
    const from = filter.from?.getTime() ?? Date.now() - BUCKET_SPAN_MS[bucket] * 60;
    const to = filter.to?.getTime() ?? Date.now();
    if ((to - from) / BUCKET_SPAN_MS[bucket] > MAX_BUCKETS) {
      throw new GatewayError('invalid_request', `That range holds more than ${MAX_BUCKETS} ${bucket} buckets; narrow 'from'/'to' or use a larger bucket.`, { param: 'bucket' });
    }
    if (!filter.from) conditions.push(gte(usageRecords.createdAt, new Date(from)));
  }
  const groups = [...new Set(groupBy)];
  const bucketStart = bucket
    ? sql<string>`to_char(date_trunc(${sql.raw(`'${bucket}'`)}, ${usageRecords.createdAt} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
    : undefined;
  const fields: Record<string, SQL | (typeof GROUP_COLUMNS)[UsageGroupBy]> = { ...totalsColumns };
  const groupExprs: Array<SQL | (typeof GROUP_COLUMNS)[UsageGroupBy]> = [];
  if (bucketStart) {
    fields.bucketStart = bucketStart;
    groupExprs.push(bucketStart);
  }
  for (const g of groups) {
    fields[g] = GROUP_COLUMNS[g];
    groupExprs.push(GROUP_COLUMNS[g]);
  }
  const query = db
    .select(fields)
    .from(usageRecords)
    .where(and(...conditions))
    .groupBy(...groupExprs)
    .orderBy(...(bucketStart ? [desc(bucketStart)] : []), desc(sql`count(*)`))
    .limit(MAX_AGGREGATE_ROWS);
  const rows = (await query) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    ...toTotals(row as TotalsRow),
    bucketStart: typeof row.bucketStart === 'string' ? new Date(row.bucketStart) : null,
    model: (row.model as string | undefined) ?? null,
    projectId: (row.project as string | undefined) ?? null,
    apiKeyId: (row.apiKey as string | undefined) ?? null,
    upstreamKeyId: (row.upstreamKey as string | undefined) ?? null,
    provider: (row.provider as string | undefined) ?? null,
    status: (row.status as UsageStatus | undefined) ?? null,
  }));
}

