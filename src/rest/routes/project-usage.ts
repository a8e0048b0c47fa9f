// Read access for a project key to its own project: what the dashboard's
// project view shows. REST rather than GraphQL so that every GraphQL field
// stays operator-only; a project key sees exactly its own project here and
// nothing else (operator tokens are refused: they have the admin API).
//
//   GET /api/usage?range=24h|7d|30d      balance, key, spend over time, usage by model, recent requests
//   GET /api/usage/requests/:requestId   one request of this project (tokens, cost, status), e.g. after a call
import { and, desc, eq, gte, ne, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { keyBalance } from '../../core/billing/key-balance.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { formatMoney, parseMoney } from '../../core/money.js';
import { identifierParam } from '../../core/validation/text-limits.js';
import { apiKeys, projects, usageRecords } from '../../db/schema.js';
import { presentedKey } from '../authenticate.js';

/** Each range and the width of its buckets in seconds (UTC-aligned). */
const RANGES = {
  '1h': { seconds: 3600, bucket: 60 },
  '24h': { seconds: 86_400, bucket: 3600 },
  '7d': { seconds: 7 * 86_400, bucket: 6 * 3600 },
  '30d': { seconds: 30 * 86_400, bucket: 86_400 },
} as const;
type Range = keyof typeof RANGES;
const RECENT = 20;

const money = (numeric: string | null | undefined): string => formatMoney(parseMoney(numeric ?? '0'));

export function projectUsageRoutes(app: FastifyInstance, gateway: Gateway): void {
  const db = gateway.database.db;

  app.get<{ Querystring: { range?: string } }>('/usage', async (request) => {
    const key = await gateway.keys.authenticate(presentedKey(request));
    const rangeName = (request.query.range ?? '24h') as Range;
    // Own keys only: `toString` or `__proto__` must not find Object.prototype's.
    const range = typeof rangeName === 'string' && Object.hasOwn(RANGES, rangeName) ? RANGES[rangeName] : undefined;
    if (!range) {
      throw new GatewayError('invalid_request', `range must be one of ${Object.keys(RANGES).join(', ')}.`, { param: 'range' });
    }
    const now = Date.now();
    const bucketMs = range.bucket * 1000;
    // Buckets aligned to the bucket width; the first one may start before `from`.
    const firstBucket = Math.floor((now - range.seconds * 1000) / bucketMs) * bucketMs + bucketMs;
    const from = new Date(firstBucket);
    const inRange = and(eq(usageRecords.projectId, key.projectId), gte(usageRecords.createdAt, from), ne(usageRecords.status, 'reserved'));
    // The width is a constant from the table above, inlined so GROUP BY matches the SELECT.
    const bucket = sql<string>`floor(extract(epoch from ${usageRecords.createdAt}) / ${sql.raw(String(range.bucket))})`;
    const sums = {
      requests: sql<string>`count(*)`,
      errors: sql<string>`count(*) filter (where ${usageRecords.status} <> 'ok')`,
      promptTokens: sql<string>`coalesce(sum(${usageRecords.promptTokens}), 0)`,
      completionTokens: sql<string>`coalesce(sum(${usageRecords.completionTokens}), 0)`,
      cost: sql<string>`coalesce(sum(${usageRecords.cost}), 0)::text`,
    };

    const [balance, [info], buckets, models, recent] = await Promise.all([
      keyBalance(db, key.id, key.id),
      db
        .select({ projectName: projects.name, keyName: apiKeys.name, last4: apiKeys.last4, createdAt: apiKeys.createdAt })
        .from(apiKeys)
        .innerJoin(projects, eq(projects.id, apiKeys.projectId))
        .where(eq(apiKeys.id, key.id))
        .limit(1),
      db.select({ bucket, ...sums }).from(usageRecords).where(inRange).groupBy(bucket),
      db
        .select({ model: usageRecords.modelId, ...sums })
        .from(usageRecords)
        .where(inRange)
        .groupBy(usageRecords.modelId)
        .orderBy(desc(sql`count(*)`)),
      db
        .select()
        .from(usageRecords)
        .where(eq(usageRecords.projectId, key.projectId))
        .orderBy(desc(usageRecords.createdAt))
        .limit(RECENT),
    ]);

    const counts = (row: Record<keyof typeof sums, string>) => ({
      requests: Number(row.requests),
      errors: Number(row.errors),
      prompt_tokens: Number(row.promptTokens),
      completion_tokens: Number(row.completionTokens),
      cost: money(row.cost),
    });
    const byBucket = new Map(buckets.map((b) => [Number(b.bucket) * bucketMs, b]));
    const series = [];
    for (let t = firstBucket; t <= now; t += bucketMs) {
      const row = byBucket.get(t);
      series.push({ t: new Date(t).toISOString(), ...(row ? counts(row) : { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, cost: '0' }) });
    }
    let total = { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0n };
    for (const m of models) {
      const c = counts(m);
      total = {
        requests: total.requests + c.requests,
        errors: total.errors + c.errors,
        prompt_tokens: total.prompt_tokens + c.prompt_tokens,
        completion_tokens: total.completion_tokens + c.completion_tokens,
        cost: total.cost + parseMoney(c.cost),
      };
    }

    return {
      object: 'project_usage',
      project: {
        id: balance.project_id,
        name: info?.projectName ?? '',
        currency: balance.currency,
        balance: balance.balance,
        reserved: balance.reserved,
        available: balance.available,
      },
      key: { ...balance.key, name: info?.keyName ?? '', last4: info?.last4 ?? '', created_at: info?.createdAt.toISOString() ?? null },
      range: rangeName,
      bucket_seconds: range.bucket,
      from: from.toISOString(),
      to: new Date(now).toISOString(),
      totals: { ...total, cost: formatMoney(total.cost) },
      series,
      by_model: models.map((m) => ({ model: m.model, ...counts(m) })),
      recent: recent.map(usageView),
    };
  });

  app.get<{ Params: { requestId: string } }>('/usage/requests/:requestId', async (request) => {
    const key = await gateway.keys.authenticate(presentedKey(request));
    const [row] = await db
      .select()
      .from(usageRecords)
      .where(and(eq(usageRecords.id, identifierParam(request.params.requestId, 'requestId')), eq(usageRecords.projectId, key.projectId)))
      .limit(1);
    // Another project's request looks exactly like an unknown one.
    if (!row) throw new GatewayError('not_found', `No request '${request.params.requestId}' in this project.`);
    return usageView(row);
  });
}

function usageView(r: typeof usageRecords.$inferSelect) {
  return {
    object: 'usage_record',
    id: r.id,
    model: r.modelId,
    key_id: r.apiKeyId,
    endpoint: r.endpoint,
    status: r.status,
    http_status: r.httpStatus,
    error_code: r.errorCode,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    cached_tokens: r.cachedTokens,
    reasoning_tokens: r.reasoningTokens,
    cost: money(r.cost),
    latency_ms: r.latencyMs,
    ttft_ms: r.ttftMs,
    stream: r.stream,
    test: r.test,
    created_at: r.createdAt.toISOString(),
    settled_at: r.settledAt?.toISOString() ?? null,
  };
}
