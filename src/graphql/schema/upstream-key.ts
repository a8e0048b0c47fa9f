import {
  addUpstreamKeyAction,
  disableUpstreamKeyAction,
  enableUpstreamKeyAction,
  removeUpstreamKeyAction,
  updateUpstreamKeyAction,
} from '../../core/admin/upstream-key-actions.js';
import { keyHealth } from '../../core/health/key-health.js';
import { maskBaseUrl } from '../../core/routing/upstream-base-url.js';
import type { UpstreamKeyRow } from '../../core/routing/upstream-key-admin.js';
import { listUpstreamKeys, upstreamKeyById } from '../../core/routing/upstream-key-queries.js';
import { builder } from '../builder.js';
import { ProviderHealth } from './health.js';
import { baseUrlDescription, providerIdsDescription } from './provider-descriptions.js';

const UpstreamKeyStatus = builder.enumType('UpstreamKeyStatus', {
  values: { ACTIVE: { value: 'active' }, DISABLED: { value: 'disabled' } } as const,
});

// The row type has the ciphertext; this object type simply has no field for
// it, so no query can ever select the secret in any form.
export const UpstreamKey = builder.objectRef<UpstreamKeyRow>('UpstreamKey').implement({
  description: 'A provider API key in the pool. Its secret is write-only: encrypted at rest, shown only as its last 4 characters.',
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.exposeString('provider'),
    label: t.exposeString('label'),
    secretLast4: t.exposeString('secretLast4'),
    baseUrl: t.string({
      nullable: true,
      description: 'Null: the provider’s official base URL.',
      // A row saved before base URLs were checked may carry credentials: they are masked, never shown.
      resolve: (key) => maskBaseUrl(key.baseUrl),
    }),
    weight: t.exposeInt('weight'),
    priority: t.exposeInt('priority', { description: 'Lower tiers are tried first.' }),
    rpmLimit: t.exposeInt('rpmLimit', { nullable: true }),
    tpmLimit: t.exposeInt('tpmLimit', { nullable: true }),
    models: t.exposeStringList('models', { nullable: true, description: 'Upstream models this key may serve; null = all.' }),
    status: t.expose('status', { type: UpstreamKeyStatus }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    health: t.field({ type: ProviderHealth, description: 'Live, from this replica’s health tracker.', resolve: (key, _args, ctx) => keyHealth(ctx.gateway, key) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  upstreamKeys: t.field({
    type: [UpstreamKey],
    description: 'The pool, by provider then priority.',
    args: { provider: t.arg.string() },
    resolve: (_root, args, ctx) => listUpstreamKeys(ctx.gateway.database.db, args.provider),
  }),
  upstreamKey: t.field({
    type: UpstreamKey,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await upstreamKeyById(ctx.gateway.database.db, String(args.id))) ?? null,
  }),
}));

const AddUpstreamKeyInput = builder.inputType('AddUpstreamKeyInput', {
  fields: (t) => ({
    provider: t.string({ required: true, description: providerIdsDescription }),
    label: t.string({ required: true }),
    secret: t.string({ required: true, description: 'The provider API key; write-only.' }),
    baseUrl: t.string({ description: baseUrlDescription }),
    weight: t.int(),
    priority: t.int(),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
    models: t.stringList(),
  }),
});

const UpdateUpstreamKeyInput = builder.inputType('UpdateUpstreamKeyInput', {
  description: 'Fields left out stay as they are; a secret given here replaces the old one (rotation).',
  fields: (t) => ({
    label: t.string(),
    secret: t.string(),
    baseUrl: t.string(),
    weight: t.int(),
    priority: t.int(),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
    models: t.stringList(),
  }),
});

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    addUpstreamKey: t.field({
      type: UpstreamKey,
      args: { input: t.arg({ type: AddUpstreamKeyInput, required: true }) },
      resolve: (_root, { input }, ctx) => addUpstreamKeyAction(ctx.gateway, ctx.operator.name, input),
    }),
    updateUpstreamKey: t.field({
      type: UpstreamKey,
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateUpstreamKeyInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => updateUpstreamKeyAction(ctx.gateway, ctx.operator.name, { id: String(id), ...input }),
    }),
    disableUpstreamKey: t.field({
      type: UpstreamKey,
      description: 'Takes the key out of rotation on every replica.',
      args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
      resolve: (_root, { id, reason }, ctx) => disableUpstreamKeyAction(ctx.gateway, ctx.operator.name, String(id), reason),
    }),
    enableUpstreamKey: t.field({
      type: UpstreamKey,
      description: 'Puts the key back in rotation with a clean health record.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => enableUpstreamKeyAction(ctx.gateway, ctx.operator.name, String(id)),
    }),
    removeUpstreamKey: t.id({
      description: 'Deletes the key (its usage history keeps the id); returns the id.',
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, ctx) => (await removeUpstreamKeyAction(ctx.gateway, ctx.operator.name, String(id))).id,
    }),
  };
});
