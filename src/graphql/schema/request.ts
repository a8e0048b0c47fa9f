import type { Endpoint as EndpointValue } from '../../contract/endpoints.js';
import type { StoredPayload } from '../../core/explorer/payload-store.js';
import { type ExplorerAttempt, type ExplorerRequest, findRequest, listRequests, type RequestPhases } from '../../core/explorer/request-queries.js';
import { projectsByIds } from '../../core/projects/project-queries.js';
import type { UsageRow } from '../../core/usage/usage-queries.js';
import { builder } from '../builder.js';
import { GraphQLError } from 'graphql/index.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';
import { Project } from './project.js';
import { decimalText } from './scalars.js';
import { Endpoint, UsageStatus } from './usage.js';

// The request explorer: one request with its attempts, the phases its time
// went to, tokens, prices and cost, and (admin tokens only) its captured
// payload; or a filtered, keyset-paged list of them.

const AttemptOutcome = builder.enumType('AttemptOutcome', {
  description: 'How one upstream attempt ended.',
  values: {
    OK: { value: 'ok' },
    RATE_LIMITED: { value: 'rate_limited', description: 'The upstream answered 429.' },
    SERVER_ERROR: { value: 'server_error', description: 'A 5xx from the upstream.' },
    TIMEOUT: { value: 'timeout' },
    CONNECT_ERROR: { value: 'connect_error', description: 'No answer: connection refused, reset, DNS.' },
    AUTH: { value: 'auth', description: 'The upstream refused the key (401/403).' },
    CLIENT_ERROR: { value: 'client_error', description: "The upstream refused the request itself (the client's fault): not retried." },
    BAD_RESPONSE: { value: 'bad_response', description: 'An answer the adapter could not read.' },
    CANCELLED: { value: 'cancelled', description: 'Stopped by the gateway: the client left or the deadline passed.' },
  } as const,
});

const RequestAttempt = builder.objectRef<ExplorerAttempt>('RequestAttempt').implement({
  description: 'One upstream call of a request, in the order tried.',
  fields: (t) => ({
    number: t.exposeInt('number', { description: '1-based.' }),
    provider: t.exposeString('provider'),
    model: t.exposeString('modelId', { description: 'The public model tried (a fallback model when the first failed).' }),
    upstreamModel: t.exposeString('upstreamModel', { nullable: true }),
    upstreamKeyId: t.exposeID('upstreamKeyId', { nullable: true, description: 'Null for the test-mode mock.' }),
    upstreamKeyLabel: t.exposeString('upstreamKeyLabel', { nullable: true }),
    outcome: t.field({ type: AttemptOutcome, resolve: (a) => a.outcome }),
    upstreamStatus: t.exposeInt('upstreamStatus', { nullable: true, description: "The upstream's HTTP status; null when it never answered (or the attempt is inferred)." }),
    errorMessage: t.exposeString('error', { nullable: true, description: "The provider's error message, free of secrets." }),
    durationMs: t.exposeInt('durationMs', { nullable: true, description: 'Until the upstream answered (JSON) or sent its first chunk (stream).' }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.startedAt, description: 'Null when the attempt is inferred.' }),
    inferred: t.exposeBoolean('inferred', {
      description: 'True when the request kept no attempt log (one attempt that succeeded) and this attempt is read from its route: no start time or status.',
    }),
  }),
});

const RequestPhasesRef = builder.objectRef<RequestPhases>('RequestPhases').implement({
  description: 'Where the request’s time went, in milliseconds; null where not known.',
  fields: (t) => ({
    admissionMs: t.exposeInt('admissionMs', { nullable: true, description: 'Arrival to the reservation held: authentication, validation, permission, rate limit, reserve.' }),
    reservationWaitMs: t.exposeInt('reservationWaitMs', {
      nullable: true,
      description:
        "From the reservation's row being written (database clock) to the first upstream attempt's start (gateway clock): how long dispatch waited on the reservation. Known only when the request kept an attempt log (several attempts or a failed one).",
    }),
    ttfbMs: t.exposeInt('ttfbMs', { nullable: true, description: 'Reservation to the first byte the client got: the first token of a stream, the whole answer otherwise.' }),
    latencyMs: t.exposeInt('latencyMs', { nullable: true, description: 'Reservation to close.' }),
    totalMs: t.exposeInt('totalMs', { nullable: true, description: 'Arrival to close (admission + latency).' }),
  }),
});

const RequestTokens = builder.objectRef<UsageRow>('RequestTokens').implement({
  description: 'Tokens by kind. `input` counts every prompt token; cached and cache writes are parts of it.',
  fields: (t) => ({
    input: t.exposeInt('promptTokens'),
    cached: t.exposeInt('cachedTokens', { description: 'Read from the provider’s prompt cache.' }),
    cacheWrite5m: t.exposeInt('cacheWriteTokens', { description: 'Written to the prompt cache with the 5-minute TTL.' }),
    cacheWrite1h: t.exposeInt('cacheWrite1hTokens', { description: 'Written with the 1-hour TTL.' }),
    output: t.exposeInt('completionTokens'),
    reasoning: t.exposeInt('reasoningTokens', { description: 'Part of output.' }),
  }),
});

const RequestPrices = builder.objectRef<UsageRow>('RequestPrices').implement({
  description: 'Prices in force when the request ran, per 1M tokens (zero for test keys).',
  fields: (t) => ({
    input: t.field({ type: 'Decimal', resolve: (r) => decimalText(r.inputPrice) }),
    output: t.field({ type: 'Decimal', resolve: (r) => decimalText(r.outputPrice) }),
    cachedInput: t.field({ type: 'Decimal', resolve: (r) => decimalText(r.cachedInputPrice) }),
    cacheWrite5m: t.field({ type: 'Decimal', resolve: (r) => decimalText(r.cacheWritePrice) }),
    cacheWrite1h: t.field({ type: 'Decimal', resolve: (r) => decimalText(r.cacheWrite1hPrice) }),
  }),
});

const RequestPayload = builder.objectRef<StoredPayload>('RequestPayload').implement({
  description: 'What the client sent and what it was answered, redacted by the project’s patterns before storage.',
  fields: (t) => ({
    request: t.exposeString('request', { description: 'The body as the door received it (JSON text, cut at 256 KiB).' }),
    response: t.exposeString('response', {
      nullable: true,
      description:
        'The completion (JSON), or a stream’s assembled text and tool calls (what was produced, when it broke off); null for embeddings (inputs only) and requests that failed before answering.',
    }),
    capturedAt: t.expose('capturedAt', { type: 'DateTime' }),
  }),
});

const Request = builder.objectRef<ExplorerRequest>('Request').implement({
  description: 'One request through the gateway as the explorer shows it: attempts, phases, tokens, prices, cost, trace, payload.',
  fields: (t) => ({
    id: t.id({ resolve: (r) => r.row.id, description: 'The request id, also sent as x-request-id.' }),
    project: t.loadable({
      type: Project,
      nullable: true,
      load: async (ids: string[], ctx) => {
        const found = await projectsByIds(ctx.gateway.database.db, ids);
        return ids.map((id) => found.get(id) ?? null);
      },
      resolve: (r) => r.row.projectId,
    }),
    projectId: t.id({ resolve: (r) => r.row.projectId }),
    apiKeyId: t.id({ resolve: (r) => r.row.apiKeyId }),
    door: t.field({ type: Endpoint, resolve: (r) => r.row.endpoint as EndpointValue }),
    model: t.string({ resolve: (r) => r.row.modelId, description: 'The model the client asked for.' }),
    status: t.field({ type: UsageStatus, resolve: (r) => r.row.status }),
    httpStatus: t.int({ nullable: true, resolve: (r) => r.row.httpStatus }),
    errorCode: t.string({ nullable: true, resolve: (r) => r.row.errorCode }),
    stream: t.boolean({ resolve: (r) => r.row.stream }),
    test: t.boolean({ resolve: (r) => r.row.test }),
    attempts: t.field({ type: [RequestAttempt], nullable: { list: false, items: false }, resolve: (r) => r.attempts }),
    phases: t.field({ type: RequestPhasesRef, nullable: false, resolve: (r) => r.phases }),
    tokens: t.field({ type: RequestTokens, nullable: false, resolve: (r) => r.row }),
    prices: t.field({ type: RequestPrices, nullable: false, resolve: (r) => r.row }),
    cost: t.field({ type: 'Decimal', description: 'What was charged (capped at the reservation).', resolve: (r) => decimalText(r.row.cost) }),
    reservedCost: t.field({ type: 'Decimal', description: 'The worst case held while it ran.', resolve: (r) => decimalText(r.row.reservedCost) }),
    traceId: t.string({ nullable: true, resolve: (r) => r.row.traceId, description: 'The W3C trace id it ran under, to look up in Jaeger or Tempo.' }),
    replicaId: t.string({ resolve: (r) => r.row.replicaId }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.row.createdAt }),
    settledAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.row.settledAt }),
    payload: t.field({
      type: RequestPayload,
      nullable: true,
      description:
        'The captured prompt and answer when the project captures payloads (null when it did not, or after PAYLOAD_RETENTION_DAYS). Admin tokens only: a viewer token gets a FORBIDDEN error on this field, so "not allowed" is never mistaken for "not captured". Costs 1000 (each is decompressed, up to 256 KiB a side): about 49 per operation.',
      complexity: 1000,
      resolve: async (r, _args, ctx) => {
        if (ctx.operator?.role !== 'admin') {
          // FORBIDDEN on this field only: the rest of the request is still answered, with HTTP 200.
          throw new GraphQLError(`The operator token "${ctx.operator?.name ?? ''}" has the viewer role; payloads are shown to admin tokens only.`, { extensions: { code: 'FORBIDDEN' } });
        }
        return (await ctx.gateway.payloads.load(r.row.id)) ?? null;
      },
    }),
  }),
});

const RequestConnection = connectionType('Request', Request);

const RequestFilter = builder.inputType('RequestFilter', {
  fields: (t) => ({
    projectId: t.id(),
    apiKeyId: t.id(),
    model: t.string({ description: 'The model the client asked for.' }),
    door: t.field({ type: Endpoint }),
    status: t.field({ type: [UsageStatus], description: 'Any of these statuses.' }),
    from: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive.' }),
    minDurationMs: t.int({ description: 'Only requests that took at least this long from reservation to close.' }),
  }),
});

const id = (v: string | number | null | undefined) => (v === null || v === undefined ? null : String(v));

builder.queryFields((t) => ({
  request: t.field({
    type: Request,
    nullable: true,
    description: 'One request by its id (x-request-id), for the explorer.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await findRequest(ctx.gateway.database.db, String(args.id))) ?? null,
  }),
  requests: t.field({
    type: RequestConnection,
    description: 'Requests, newest first, filtered by project, key, model, door, status, time range and duration.',
    args: { filter: t.arg({ type: RequestFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) => {
      const f = args.filter;
      return toConnection(
        await listRequests(
          ctx.gateway.database.db,
          {
            projectId: id(f?.projectId),
            apiKeyId: id(f?.apiKeyId),
            model: f?.model ?? null,
            door: f?.door ?? null,
            statuses: f?.status ?? null,
            from: f?.from ?? null,
            to: f?.to ?? null,
            minDurationMs: f?.minDurationMs ?? null,
          },
          args,
        ),
      );
    },
  }),
}));
