import { deleteModelAction, upsertModelAction } from '../../core/admin/model-actions.js';
import { findModel, listModels, type ModelRouteRow, type ModelWithRoutes } from '../../core/catalogue/model-queries.js';
import { effectivePrices } from '../../core/catalogue/model-prices.js';
import { formatPrice } from '../../core/money.js';
import type { ModelCapabilities as Capabilities } from '../../db/schema.js';
import { builder } from '../builder.js';
import { providerIdsDescription } from './provider-descriptions.js';
import { decimalText } from './scalars.js';

export const ModelKind = builder.enumType('ModelKind', {
  values: { CHAT: { value: 'chat' }, EMBEDDING: { value: 'embedding' } } as const,
});

const ModelRoute = builder.objectRef<ModelRouteRow>('ModelRoute').implement({
  description: 'Where a public model is served: a provider and its model name. Lower priority is tried first.',
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeString('provider'),
    upstreamModel: t.exposeString('upstreamModel'),
    priority: t.exposeInt('priority'),
    weight: t.exposeInt('weight'),
  }),
});

const ModelCapabilities = builder.objectRef<Capabilities>('ModelCapabilities').implement({
  fields: (t) => ({
    tools: t.boolean({ resolve: (c) => c.tools ?? false }),
    vision: t.boolean({ resolve: (c) => c.vision ?? false }),
    reasoning: t.boolean({ resolve: (c) => c.reasoning ?? false }),
    webSearch: t.boolean({ resolve: (c) => c.webSearch ?? false }),
  }),
});

export const Model = builder.objectRef<ModelWithRoutes>('Model').implement({
  description: 'A public model id in the catalogue, its prices (per 1M tokens, deployment currency) and routes.',
  fields: (t) => ({
    id: t.id({ resolve: (m) => m.model.id }),
    kind: t.field({ type: ModelKind, resolve: (m) => m.model.kind }),
    ownedBy: t.string({ resolve: (m) => m.model.ownedBy }),
    inputPrice: t.field({ type: 'Decimal', resolve: (m) => decimalText(m.model.inputPrice) }),
    outputPrice: t.field({ type: 'Decimal', resolve: (m) => decimalText(m.model.outputPrice) }),
    cachedInputPrice: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'Null: cached prompt tokens cost the input price.',
      resolve: (m) => (m.model.cachedInputPrice === null ? null : decimalText(m.model.cachedInputPrice)),
    }),
    cacheWritePrice: t.field({
      type: 'Decimal',
      nullable: true,
      description: "As set, per 1M prompt tokens written to the provider's prompt cache with the 5-minute TTL. Null: the default, see effectiveCacheWritePrice.",
      resolve: (m) => (m.model.cacheWritePrice === null ? null : decimalText(m.model.cacheWritePrice)),
    }),
    cacheWrite1hPrice: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'As set, per 1M prompt tokens written with the 1-hour TTL. Null: the default, see effectiveCacheWrite1hPrice.',
      resolve: (m) => (m.model.cacheWrite1hPrice === null ? null : decimalText(m.model.cacheWrite1hPrice)),
    }),
    effectiveCacheWritePrice: t.field({
      type: 'Decimal',
      description:
        "The 5-minute cache-write price charged: cacheWritePrice, else 1.25 × inputPrice (Anthropic's rate; rounded up to 6 decimals for a model stored before cache prices existed; an embedding model, which has no prompt cache, its inputPrice). Every prompt token is reserved for at the dearest of inputPrice, cachedInputPrice and both write prices.",
      resolve: (m) => formatPrice(effectivePrices(m.model).cacheWrite),
    }),
    effectiveCacheWrite1hPrice: t.field({
      type: 'Decimal',
      description: 'The 1-hour cache-write price charged: cacheWrite1hPrice, else 2 × inputPrice (an embedding model: its inputPrice).',
      resolve: (m) => formatPrice(effectivePrices(m.model).cacheWrite1h),
    }),
    contextWindow: t.int({ nullable: true, resolve: (m) => m.model.contextWindow }),
    maxOutputTokens: t.int({ nullable: true, resolve: (m) => m.model.maxOutputTokens }),
    dimensions: t.int({ nullable: true, resolve: (m) => m.model.dimensions }),
    fallbacks: t.stringList({ description: 'Models tried, in order, when every route of this one failed.', resolve: (m) => m.model.fallbacks }),
    capabilities: t.field({ type: ModelCapabilities, resolve: (m) => m.model.capabilities }),
    enabled: t.boolean({ resolve: (m) => m.model.enabled }),
    routes: t.field({ type: [ModelRoute], resolve: (m) => m.routes }),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.model.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (m) => m.model.updatedAt }),
  }),
});

builder.queryFields((t) => ({
  model: t.field({
    type: Model,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await findModel(ctx.gateway.database.db, String(args.id))) ?? null,
  }),
  models: t.field({
    type: [Model],
    description: 'The catalogue, by id; disabled models too unless enabledOnly.',
    args: { enabledOnly: t.arg.boolean({ defaultValue: false }), kind: t.arg({ type: ModelKind }) },
    resolve: (_root, args, ctx) => listModels(ctx.gateway.database.db, { enabledOnly: args.enabledOnly, kind: args.kind }),
  }),
}));

const ModelRouteInput = builder.inputType('ModelRouteInput', {
  fields: (t) => ({
    provider: t.string({ required: true, description: providerIdsDescription }),
    upstreamModel: t.string({ required: true }),
    priority: t.int({ description: 'Lower is tried first; default: the position in the list.' }),
    weight: t.int({ description: 'Share within a priority tier; default 1.' }),
  }),
});

const ModelCapabilitiesInput = builder.inputType('ModelCapabilitiesInput', {
  fields: (t) => ({ tools: t.boolean(), vision: t.boolean(), reasoning: t.boolean(), webSearch: t.boolean() }),
});

const UpsertModelInput = builder.inputType('UpsertModelInput', {
  description: 'The whole model: an existing model with this id is replaced, routes included.',
  fields: (t) => ({
    id: t.string({ required: true }),
    kind: t.field({ type: ModelKind, required: true }),
    ownedBy: t.string({ required: true }),
    inputPrice: t.field({ type: 'Decimal', required: true, description: 'Per 1M prompt tokens.' }),
    outputPrice: t.field({ type: 'Decimal', required: true, description: 'Per 1M completion tokens.' }),
    cachedInputPrice: t.field({ type: 'Decimal', description: 'Per 1M cached prompt tokens; default: the input price.' }),
    cacheWritePrice: t.field({
      type: 'Decimal',
      description:
        'Per 1M prompt tokens written to the prompt cache (5-minute TTL); default: 1.25 × the input price. Required when that default would need more than 6 decimals.',
    }),
    cacheWrite1hPrice: t.field({ type: 'Decimal', description: 'Per 1M prompt tokens written to the prompt cache (1-hour TTL); default: 2 × the input price.' }),
    contextWindow: t.int(),
    maxOutputTokens: t.int({ description: 'Reserved for when a request sets no max_tokens.' }),
    dimensions: t.int({ description: 'Embedding vector size.' }),
    fallbacks: t.stringList(),
    capabilities: t.field({ type: ModelCapabilitiesInput }),
    enabled: t.boolean(),
    routes: t.field({ type: [ModelRouteInput], required: true }),
  }),
});

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    upsertModel: t.field({
      type: Model,
      description: 'Creates or replaces a model with its routes and prices; effective on this replica when it returns.',
      args: { input: t.arg({ type: UpsertModelInput, required: true }) },
      resolve: (_root, { input }, ctx) => upsertModelAction(ctx.gateway, ctx.operator.name, input),
    }),
    deleteModel: t.id({
      description: 'Removes a model and its routes; returns its id.',
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, ctx) => (await deleteModelAction(ctx.gateway, ctx.operator.name, String(id))).model.id,
    }),
  };
});

