import type { UsageEvent as UsageEventShape } from '../../core/events/event-bus.js';
import { formatMoney } from '../../core/money.js';
import {
  findUsageRecord,
  listUsage,
  type UsageAggregate as UsageAggregateShape,
  usageAggregates,
  type UsageFilter as UsageFilterValue,
  type UsageRow,
  usageTotals,
  usageTotalsByProject,
  type UsageTotals,
} from '../../core/usage/usage-queries.js';
import { builder, type BuilderTypes } from '../builder.js';
import { busFeed } from '../bus-feed.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';
import { Project } from './project.js';
import { decimalText } from './scalars.js';

export const UsageStatus = builder.enumType('UsageStatus', {
  values: {
    RESERVED: { value: 'reserved', description: 'In flight: cost reserved, not settled yet.' },
    OK: { value: 'ok' },
    ERROR: { value: 'error' },
    ABORTED: { value: 'aborted', description: 'The client went away; charged for what was produced.' },
    REJECTED: { value: 'rejected', description: 'Refused before any upstream call (402, 403, 429...).' },
  } as const,
});

export const Endpoint = builder.enumType('UsageEndpoint', {
  description: 'The door the request came through.',
  values: {
    CHAT: { value: 'chat', description: '/v1/chat/completions' },
    EMBEDDINGS: { value: 'embeddings', description: '/v1/embeddings' },
    RESPONSES: { value: 'responses', description: '/v1/responses' },
    MESSAGES: { value: 'messages', description: "Anthropic's /v1/messages" },
    GENERATE_CONTENT: { value: 'generate_content', description: "Gemini's generateContent and streamGenerateContent" },
    EMBED_CONTENT: { value: 'embed_content', description: "Gemini's embedContent and batchEmbedContents" },
  } as const,
});

const UsageRecord = builder.objectRef<UsageRow>('UsageRecord').implement({
  description: 'One request through the gateway, from reservation to settlement.',
  fields: (t) => ({
    requestId: t.exposeID('id', { description: 'Also sent to the client as x-request-id.' }),
    projectId: t.exposeID('projectId'),
    apiKeyId: t.exposeID('apiKeyId'),
    endpoint: t.expose('endpoint', { type: Endpoint }),
    model: t.exposeString('modelId'),
    provider: t.exposeString('provider', { nullable: true }),
    upstreamModel: t.exposeString('upstreamModel', { nullable: true }),
    upstreamKeyId: t.exposeID('upstreamKeyId', { nullable: true }),
    status: t.expose('status', { type: UsageStatus }),
    httpStatus: t.exposeInt('httpStatus', { nullable: true }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Every input token: uncached, cache reads and cache writes.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Every output token, reasoning included.' }),
    cachedTokens: t.exposeInt('cachedTokens', { description: "Part of promptTokens read from the provider's prompt cache (cachedInputPrice)." }),
    cacheWriteTokens: t.exposeInt('cacheWriteTokens', { description: "Part of promptTokens written to the provider's prompt cache with the 5-minute TTL (cacheWritePrice)." }),
    cacheWrite1hTokens: t.exposeInt('cacheWrite1hTokens', { description: 'Part of promptTokens written with the 1-hour TTL (cacheWrite1hPrice).' }),
    reasoningTokens: t.exposeInt('reasoningTokens', { description: 'Part of completionTokens; charged at the output price.' }),
    reservedCost: t.field({ type: 'Decimal', resolve: (u) => decimalText(u.reservedCost) }),
    cost: t.field({
      type: 'Decimal',
      description:
        'Uncached input (promptTokens minus the cached and written parts, never below 0) × inputPrice + cachedTokens × cachedInputPrice + cacheWriteTokens × cacheWritePrice + cacheWrite1hTokens × cacheWrite1hPrice + completionTokens × outputPrice, per 1M tokens, exactly; capped at reservedCost.',
      resolve: (u) => decimalText(u.cost),
    }),
    inputPrice: t.field({ type: 'Decimal', description: 'Price in force for this request, per 1M tokens.', resolve: (u) => decimalText(u.inputPrice) }),
    outputPrice: t.field({ type: 'Decimal', resolve: (u) => decimalText(u.outputPrice) }),
    cachedInputPrice: t.field({ type: 'Decimal', resolve: (u) => decimalText(u.cachedInputPrice) }),
    cacheWritePrice: t.field({ type: 'Decimal', description: 'Cache-write price in force (5-minute TTL), per 1M tokens.', resolve: (u) => decimalText(u.cacheWritePrice) }),
    cacheWrite1hPrice: t.field({ type: 'Decimal', description: 'Cache-write price in force (1-hour TTL), per 1M tokens.', resolve: (u) => decimalText(u.cacheWrite1hPrice) }),
    latencyMs: t.exposeInt('latencyMs', { nullable: true }),
    ttftMs: t.exposeInt('ttftMs', { nullable: true, description: 'Time to first token (streams).' }),
    attempts: t.exposeInt('attempts', { description: 'Upstream calls made, failovers included.' }),
    stream: t.exposeBoolean('stream'),
    test: t.exposeBoolean('test'),
    replicaId: t.exposeString('replicaId'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
  }),
});

const UsageRecordConnection = connectionType('UsageRecord', UsageRecord);

const UsageFilter = builder.inputType('UsageFilter', {
  fields: (t) => ({
    projectId: t.id(),
    apiKeyId: t.id(),
    model: t.string(),
    provider: t.string(),
    upstreamKeyId: t.id(),
    statuses: t.field({ type: [UsageStatus] }),
    test: t.boolean({ description: 'true: test-key requests only; false: live only.' }),
    from: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

type UsageFilterArg = typeof UsageFilter.$inferInput;

function toFilter(filter: UsageFilterArg | null | undefined): UsageFilterValue {
  if (!filter) return {};
  const id = (v: string | number | null | undefined) => (v === null || v === undefined ? null : String(v));
  return {
    projectId: id(filter.projectId),
    apiKeyId: id(filter.apiKeyId),
    model: filter.model ?? null,
    provider: filter.provider ?? null,
    upstreamKeyId: id(filter.upstreamKeyId),
    statuses: filter.statuses ?? null,
    test: filter.test ?? null,
    from: filter.from ?? null,
    to: filter.to ?? null,
  };
}

const totalsFields = <T extends UsageTotals>(t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, T>) => {
  const whole = 'A whole number (Float only for its range).';
  return {
    requests: t.int({ resolve: (u) => u.requests }),
    errors: t.int({ description: 'Requests that ended error, aborted or rejected.', resolve: (u) => u.errors }),
    promptTokens: t.float({ description: whole, resolve: (u) => u.promptTokens }),
    completionTokens: t.float({ description: whole, resolve: (u) => u.completionTokens }),
    cachedTokens: t.float({ description: whole, resolve: (u) => u.cachedTokens }),
    cacheWriteTokens: t.float({ description: `Part of promptTokens written to the provider's prompt cache with the 5-minute TTL. ${whole}`, resolve: (u) => u.cacheWriteTokens }),
    cacheWrite1hTokens: t.float({ description: `Written with the 1-hour TTL. ${whole}`, resolve: (u) => u.cacheWrite1hTokens }),
    reasoningTokens: t.float({ description: whole, resolve: (u) => u.reasoningTokens }),
    costTotal: t.field({ type: 'Decimal', resolve: (u) => formatMoney(u.cost) }),
    avgLatencyMs: t.int({ nullable: true, resolve: (u) => u.avgLatencyMs }),
  };
};

const UsageSummary = builder.objectRef<UsageTotals>('UsageSummary').implement({
  description: 'Totals over the matching usage records.',
  fields: (t) => totalsFields(t),
});

const TimeBucket = builder.enumType('TimeBucket', {
  values: { MINUTE: { value: 'minute' }, HOUR: { value: 'hour' }, DAY: { value: 'day' } } as const,
});

const UsageGroupBy = builder.enumType('UsageGroupBy', {
  values: {
    MODEL: { value: 'model' },
    PROJECT: { value: 'project' },
    API_KEY: { value: 'apiKey' },
    UPSTREAM_KEY: { value: 'upstreamKey' },
    PROVIDER: { value: 'provider' },
    STATUS: { value: 'status' },
  } as const,
});

const UsageAggregate = builder.objectRef<UsageAggregateShape>('UsageAggregate').implement({
  description: 'Totals for one time bucket and group; fields not grouped by are null.',
  fields: (t) => ({
    bucketStart: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.bucketStart }),
    model: t.exposeString('model', { nullable: true }),
    projectId: t.exposeID('projectId', { nullable: true }),
    apiKeyId: t.exposeID('apiKeyId', { nullable: true }),
    upstreamKeyId: t.exposeID('upstreamKeyId', { nullable: true }),
    provider: t.exposeString('provider', { nullable: true }),
    status: t.expose('status', { type: UsageStatus, nullable: true }),
    ...totalsFields(t),
  }),
});

builder.objectField(Project, 'usageSummary', (t) =>
  // One query per operation for every project in a list (byPath: the projects share the field's arguments).
  t.loadable({
    type: UsageSummary,
    args: { from: t.arg({ type: 'DateTime' }), to: t.arg({ type: 'DateTime' }) },
    byPath: true,
    load: async (projectIds: string[], ctx, args) => {
      const byProject = await usageTotalsByProject(ctx.gateway.database.db, projectIds, { from: args.from ?? null, to: args.to ?? null });
      return projectIds.map((id) => byProject.get(id)!);
    },
    resolve: (project) => project.id,
  }),
);

builder.queryFields((t) => ({
  usageRecord: t.field({
    type: UsageRecord,
    nullable: true,
    args: { requestId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await findUsageRecord(ctx.gateway.database.db, String(args.requestId))) ?? null,
  }),
  usageRecords: t.field({
    type: UsageRecordConnection,
    description: 'Requests, newest first, filtered by project, key, model, provider, upstream key, status, time range.',
    args: { filter: t.arg({ type: UsageFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) => toConnection(await listUsage(ctx.gateway.database.db, toFilter(args.filter), args)),
  }),
  usageSummary: t.field({
    type: UsageSummary,
    args: { filter: t.arg({ type: UsageFilter }) },
    resolve: (_root, args, ctx) => usageTotals(ctx.gateway.database.db, toFilter(args.filter)),
  }),
  usageAggregates: t.field({
    type: [UsageAggregate],
    description:
      'Totals bucketed by time (UTC) and grouped, newest bucket first. Without a bucket: one row per group over the range. With a bucket and no `from`: the last 60 buckets.',
    args: {
      filter: t.arg({ type: UsageFilter }),
      bucket: t.arg({ type: TimeBucket }),
      groupBy: t.arg({ type: [UsageGroupBy], defaultValue: [] }),
    },
    resolve: (_root, args, ctx) => usageAggregates(ctx.gateway.database.db, toFilter(args.filter), args.bucket ?? null, args.groupBy ?? []),
  }),
}));

const UsageEvent = builder.objectRef<UsageEventShape>('UsageEvent').implement({
  description: 'A request as it closes, on any replica.',
  fields: (t) => ({
    requestId: t.exposeID('requestId'),
    projectId: t.exposeID('projectId'),
    apiKeyId: t.exposeID('apiKeyId'),
    model: t.exposeString('model'),
    provider: t.exposeString('provider', { nullable: true }),
    upstreamKeyId: t.exposeID('upstreamKeyId', { nullable: true }),
    status: t.field({ type: UsageStatus, resolve: (e) => e.status as UsageRow['status'] }),
    httpStatus: t.exposeInt('httpStatus', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    cachedTokens: t.exposeInt('cachedTokens'),
    cacheWriteTokens: t.int({ resolve: (e) => e.cacheWriteTokens ?? 0 }),
    cacheWrite1hTokens: t.int({ resolve: (e) => e.cacheWrite1hTokens ?? 0 }),
    reasoningTokens: t.exposeInt('reasoningTokens'),
    cost: t.field({ type: 'Decimal', resolve: (e) => decimalText(e.cost) }),
    latencyMs: t.exposeInt('latencyMs', { nullable: true }),
    ttftMs: t.exposeInt('ttftMs', { nullable: true }),
    stream: t.exposeBoolean('stream'),
    test: t.exposeBoolean('test'),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    settled: t.boolean({
      description:
        'False when the event left as the request closed, before its settlement batch was written (≤ ~100 ms later): cost is the final charge, but the usage row may still read RESERVED and the balance not include it yet.',
      resolve: (e) => e.settled ?? true,
    }),
  }),
});

builder.subscriptionField('usage', (t) =>
  t.field({
    type: UsageEvent,
    description: 'Each request the moment it closes, with its final charge, on any replica; all projects when projectId is left out.',
    args: { projectId: t.arg.id() },
    subscribe: (_root, args, ctx) => {
      const projectId = args.projectId === null || args.projectId === undefined ? null : String(args.projectId);
      return busFeed(ctx, 'usage', { accept: (event) => !projectId || event.projectId === projectId });
    },
    resolve: (event) => event,
  }),
);
