// Read access for a project key to its own project: what the dashboard's
// project view shows. REST rather than GraphQL so that every GraphQL field
// stays operator-only; a project key sees exactly its own project here and
// nothing else (operator tokens are refused: they have the admin API).
//
//   GET /api/usage?range=24h|7d|30d      balance, key, spend over time, usage by model, recent requests
//   GET /api/usage/requests/:requestId   one request of this project (tokens, cost, status), e.g. after a call
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { formatMoney, parseMoney } from '../../core/money.js';
import { findUsageRecord, type UsageRow } from '../../core/usage/usage-queries.js';
import { projectUsageReport, type UsageCounts } from '../../core/usage/project-usage-report.js';
import { identifierParam } from '../../core/validation/identifier-param.js';
import { presentedKey } from '../authenticate.js';

export function projectUsageRoutes(app: FastifyInstance, gateway: Gateway): void {
  const db = gateway.database.db;

  app.get<{ Querystring: { range?: string } }>('/usage', async (request) => {
    const key = await gateway.keys.authenticate(presentedKey(request));
    const report = await projectUsageReport(db, key, request.query.range ?? '24h');
    const { balance, card } = report;
    return {
      object: 'project_usage',
      project: {
        id: balance.project_id,
        name: card?.projectName ?? '',
        currency: balance.currency,
        balance: balance.balance,
        reserved: balance.reserved,
        available: balance.available,
      },
      key: { ...balance.key, name: card?.keyName ?? '', last4: card?.last4 ?? '', created_at: card?.createdAt.toISOString() ?? null },
      range: report.range,
      bucket_seconds: report.bucketSeconds,
      from: report.from.toISOString(),
      to: report.to.toISOString(),
      totals: countsView(report.totals),
      series: report.series.map(({ start, ...c }) => ({ t: start.toISOString(), ...countsView(c) })),
      by_model: report.byModel.map(({ model, ...c }) => ({ model, ...countsView(c) })),
      recent: report.recent.map(usageView),
    };
  });

  app.get<{ Params: { requestId: string } }>('/usage/requests/:requestId', async (request) => {
    const key = await gateway.keys.authenticate(presentedKey(request));
    const row = await findUsageRecord(db, identifierParam(request.params.requestId, 'requestId'), key.projectId);
    // Another project's request looks exactly like an unknown one.
    if (!row) throw new GatewayError('not_found', `No request '${request.params.requestId}' in this project.`);
    return usageView(row);
  });
}

function countsView(c: UsageCounts) {
  return { requests: c.requests, errors: c.errors, prompt_tokens: c.promptTokens, completion_tokens: c.completionTokens, cost: formatMoney(c.cost) };
}

function usageView(r: UsageRow) {
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
    cache_write_tokens: r.cacheWriteTokens,
    cache_write_1h_tokens: r.cacheWrite1hTokens,
    reasoning_tokens: r.reasoningTokens,
    cost: formatMoney(parseMoney(r.cost)),
    latency_ms: r.latencyMs,
    ttft_ms: r.ttftMs,
    stream: r.stream,
    test: r.test,
    created_at: r.createdAt.toISOString(),
    settled_at: r.settledAt?.toISOString() ?? null,
  };
}
