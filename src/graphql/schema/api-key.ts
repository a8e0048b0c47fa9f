import { createApiKeyAction, revokeApiKeyAction, setApiKeyLimitsAction } from '../../core/projects/api-key-actions.js';
import { type ApiKeyRow, findProject, type NewApiKey } from '../../core/projects/project-admin.js';
import { apiKeyById, type ApiKeyState as ApiKeyStateValue, listApiKeys, projectsApiKeys } from '../../core/projects/project-queries.js';
import { builder } from '../builder.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';
import { Project } from './project.js';
import { decimalText } from './scalars.js';

export const KeyMode = builder.enumType('KeyMode', {
  description: 'LIVE keys call real upstreams and are charged; TEST keys are answered by the built-in mock and never charged.',
  values: { LIVE: { value: 'live' }, TEST: { value: 'test' } } as const,
});

const SpendLimitPeriod = builder.enumType('SpendLimitPeriod', {
  values: { TOTAL: { value: 'total', description: 'Over the key’s whole life.' }, MONTHLY: { value: 'monthly', description: 'Per calendar month (UTC).' } } as const,
});

const ApiKeyState = builder.enumType('ApiKeyState', {
  values: { ACTIVE: { value: 'active' }, REVOKED: { value: 'revoked' }, EXPIRED: { value: 'expired' } } as const,
});

function stateOf(key: ApiKeyRow, now = new Date()): ApiKeyStateValue {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'active';
}

/** Spend in the current limit period; a monthly period from an earlier month has rolled over. */
function periodSpent(key: ApiKeyRow, now = new Date()): string {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return key.spendLimitPeriod === 'monthly' && key.periodStart < monthStart ? '0' : decimalText(key.periodSpent);
}

export const ApiKey = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  description: 'A project API key. The secret is shown once, at creation; afterwards only its prefix and last 4 characters.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Public key id, safe to show and to use in /api/balance/:keyId.' }),
    projectId: t.exposeID('projectId'),
    project: t.field({ type: Project, resolve: (key, _args, ctx) => findProject(ctx.gateway.database.db, key.projectId) }),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix'),
    last4: t.exposeString('last4'),
    mode: t.expose('mode', { type: KeyMode }),
    state: t.field({ type: ApiKeyState, resolve: (key) => stateOf(key) }),
    spendLimit: t.field({ type: 'Decimal', nullable: true, resolve: (key) => (key.spendLimit === null ? null : decimalText(key.spendLimit)) }),
    spendLimitPeriod: t.expose('spendLimitPeriod', { type: SpendLimitPeriod }),
    spent: t.field({ type: 'Decimal', description: 'Settled spend in the current limit period.', resolve: (key) => periodSpent(key) }),
    spentTotal: t.field({ type: 'Decimal', description: 'Settled spend over the key’s whole life.', resolve: (key) => decimalText(key.spentTotal) }),
    reserved: t.field({ type: 'Decimal', description: 'Held by this key’s in-flight requests.', resolve: (key) => decimalText(key.reserved) }),
    rpmLimit: t.exposeInt('rpmLimit', { nullable: true }),
    tpmLimit: t.exposeInt('tpmLimit', { nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ApiKeyConnection = connectionType('ApiKey', ApiKey);

builder.objectField(Project, 'apiKeys', (t) =>
  // One query per operation for every project in a list (byPath: the projects share the field's arguments).
  t.loadableList({
    type: ApiKey,
    description: 'This project’s keys, oldest first.',
    args: { state: t.arg({ type: ApiKeyState }) },
    byPath: true,
    load: async (projectIds: string[], ctx, args) => {
      const byProject = await projectsApiKeys(ctx.gateway.database.db, projectIds, { state: args.state ?? null });
      return projectIds.map((id) => byProject.get(id) ?? []);
    },
    resolve: (project) => project.id,
  }),
);

const ApiKeyFilter = builder.inputType('ApiKeyFilter', {
  fields: (t) => ({
    projectId: t.id(),
    mode: t.field({ type: KeyMode }),
    state: t.field({ type: ApiKeyState }),
  }),
});

builder.queryFields((t) => ({
  apiKey: t.field({
    type: ApiKey,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await apiKeyById(ctx.gateway.database.db, String(args.id))) ?? null,
  }),
  apiKeys: t.field({
    type: ApiKeyConnection,
    description: 'API keys across projects, newest first.',
    args: { filter: t.arg({ type: ApiKeyFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) =>
      toConnection(
        await listApiKeys(
          ctx.gateway.database.db,
          { projectId: args.filter?.projectId ? String(args.filter.projectId) : null, mode: args.filter?.mode ?? null, state: args.filter?.state ?? null },
          args,
        ),
      ),
  }),
}));

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    mode: t.field({ type: KeyMode, required: true }),
    name: t.string(),
    spendLimit: t.field({ type: 'Decimal' }),
    spendLimitPeriod: t.field({ type: SpendLimitPeriod }),
    expiresAt: t.field({ type: 'DateTime' }),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
  }),
});

const ApiKeyLimitsInput = builder.inputType('ApiKeyLimitsInput', {
  description: 'Fields left out stay as they are; spendLimit, expiresAt, rpmLimit or tpmLimit set to null are removed.',
  fields: (t) => ({
    name: t.string(),
    spendLimit: t.field({ type: 'Decimal' }),
    spendLimitPeriod: t.field({ type: SpendLimitPeriod }),
    expiresAt: t.field({ type: 'DateTime' }),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
  }),
});

const CreateApiKeyPayload = builder.objectRef<NewApiKey>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The whole key. Shown this once: the gateway keeps only its hash.' }),
    apiKey: t.field({ type: ApiKey, resolve: (p) => p.apiKey }),
  }),
});

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    createApiKey: t.field({
      type: CreateApiKeyPayload,
      args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
      resolve: (_root, { input }, ctx) => createApiKeyAction(ctx.gateway, ctx.operator.name, { ...input, projectId: String(input.projectId) }),
    }),
    revokeApiKey: t.field({
      type: ApiKey,
      description: 'The key stops working on every replica within the event bus’s delivery time.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => revokeApiKeyAction(ctx.gateway, ctx.operator.name, String(id)),
    }),
    setApiKeyLimits: t.field({
      type: ApiKey,
      description: 'Spend limit and its period, expiry, requests and tokens per minute.',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: ApiKeyLimitsInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => setApiKeyLimitsAction(ctx.gateway, ctx.operator.name, { id: String(id), ...input }),
    }),
  };
});
