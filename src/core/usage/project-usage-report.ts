import type { Db } from '../../db/open-database.js';
import { type KeyBalance, keyBalance } from '../billing/key-balance.js';
import { GatewayError } from '../errors.js';
import { apiKeyCard } from '../projects/project-queries.js';
import { listUsage, type TimeBucket, usageAggregates, type UsageFilter, type UsageRow, usageTotals, type UsageTotals } from './usage-queries.js';

// What a project key may see of its own project (the dashboard's project
// view): its balance, the key, spend over a recent range in UTC-aligned
// buckets, spend by model and the latest requests. The sums are the admin
// API's own aggregates, so both views of one project always agree.

/** Each range and the width of its buckets in seconds (UTC-aligned). */
export const USAGE_RANGES = {
  '1h': { seconds: 3600, bucket: 60 },
  '24h': { seconds: 86_400, bucket: 3600 },
  '7d': { seconds: 7 * 86_400, bucket: 6 * 3600 },
  '30d': { seconds: 30 * 86_400, bucket: 86_400 },
} as const;
export type UsageRange = keyof typeof USAGE_RANGES;

const RECENT = 20;

export type UsageCounts = Pick<UsageTotals, 'requests' | 'errors' | 'promptTokens' | 'completionTokens' | 'cost'>;

export interface ProjectUsageReport {
  balance: KeyBalance;
  /** Undefined only if the key vanished between authentication and the report. */
  card: Awaited<ReturnType<typeof apiKeyCard>>;
  range: UsageRange;
  bucketSeconds: number;
  from: Date;
  to: Date;
  totals: UsageCounts;
  /** Every bucket from `from` to `to`, empty ones included, oldest first. */
  series: Array<{ start: Date } & UsageCounts>;
  /** Most requests first. */
  byModel: Array<{ model: string } & UsageCounts>;
  /** Newest first, reserved requests included. */
  recent: UsageRow[];
}

const ZERO: UsageCounts = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, cost: 0n };

const add = (a: UsageCounts, b: UsageCounts): UsageCounts => ({
  requests: a.requests + b.requests,
  errors: a.errors + b.errors,
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  cost: a.cost + b.cost,
});

const counts = ({ requests, errors, promptTokens, completionTokens, cost }: UsageTotals): UsageCounts => ({ requests, errors, promptTokens, completionTokens, cost });

export function usageRangeOf(name: unknown): UsageRange {
  // Own keys only: `toString` or `__proto__` must not find Object.prototype's.
  if (typeof name === 'string' && Object.hasOwn(USAGE_RANGES, name)) return name as UsageRange;
  throw new GatewayError('invalid_request', `range must be one of ${Object.keys(USAGE_RANGES).join(', ')}.`, { param: 'range' });
}

/** The largest calendar bucket SQL can group by that tiles the range's buckets (six hours are summed from hours). */
const sqlBucket = (seconds: number): TimeBucket => (seconds % 86_400 === 0 ? 'day' : seconds % 3600 === 0 ? 'hour' : 'minute');

export async function projectUsageReport(db: Db, key: { id: string; projectId: string }, rangeName: unknown, now = Date.now()): Promise<ProjectUsageReport> {
  const range = usageRangeOf(rangeName);
  const { seconds, bucket } = USAGE_RANGES[range];
  const bucketMs = bucket * 1000;
  // Buckets aligned to the bucket width; the first one may start before now − range.
  const firstBucket = Math.floor((now - seconds * 1000) / bucketMs) * bucketMs + bucketMs;
  const from = new Date(firstBucket);
  const settled: UsageFilter = { projectId: key.projectId, from, statuses: ['ok', 'error', 'aborted', 'rejected'] };

  const [balance, card, buckets, models, totals, recent] = await Promise.all([
    keyBalance(db, key.id, key.id),
    apiKeyCard(db, key.id),
    usageAggregates(db, settled, sqlBucket(bucket), []),
    usageAggregates(db, settled, null, ['model']),
    usageTotals(db, settled),
    listUsage(db, { projectId: key.projectId }, { first: RECENT }),
  ]);

  const byBucket = new Map<number, UsageCounts>();
  for (const row of buckets) {
    const start = Math.floor(row.bucketStart!.getTime() / bucketMs) * bucketMs;
    byBucket.set(start, add(byBucket.get(start) ?? ZERO, counts(row)));
  }
  const series: ProjectUsageReport['series'] = [];
  for (let t = firstBucket; t <= now; t += bucketMs) series.push({ start: new Date(t), ...(byBucket.get(t) ?? ZERO) });

  return {
    balance,
    card,
    range,
    bucketSeconds: bucket,
    from,
    to: new Date(now),
    totals: counts(totals),
    series,
    byModel: models.map((m) => ({ model: m.model ?? '', ...counts(m) })),
    recent: recent.edges.map((e) => e.node),
  };
}
