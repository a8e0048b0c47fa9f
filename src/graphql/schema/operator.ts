import { createAdminTokenAction, revokeAdminTokenAction } from '../../core/admin/admin-token-actions.js';
import { type AdminTokenRow, listAdminTokens, type Operator as OperatorShape } from '../../core/admin/admin-tokens.js';
import { builder } from '../builder.js';

const AdminRole = builder.enumType('AdminRole', {
  values: {
    ADMIN: { value: 'admin', description: 'Reads and changes everything.' },
    VIEWER: { value: 'viewer', description: 'Reads everything, changes nothing.' },
  } as const,
});

const Operator = builder.objectRef<OperatorShape>('Operator').implement({
  description: 'Who is calling: the operator token presented with this request.',
  fields: (t) => ({
    tokenId: t.exposeID('tokenId'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: AdminRole }),
  }),
});

const AdminToken = builder.objectRef<AdminTokenRow>('AdminToken').implement({
  description: 'An operator token for this API. Stored as a hash; the secret is shown once, at creation.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: AdminRole }),
    prefix: t.exposeString('prefix'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateAdminTokenPayload = builder.objectRef<{ secret: string; token: AdminTokenRow }>('CreateAdminTokenPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Shown this once: the gateway keeps only its hash.' }),
    adminToken: t.field({ type: AdminToken, resolve: (p) => p.token }),
  }),
});

builder.queryFields((t) => ({
  me: t.withAuth({ operator: true }).field({ type: Operator, resolve: (_root, _args, ctx) => ctx.operator }),
  adminTokens: t.field({ type: [AdminToken], resolve: (_root, _args, ctx) => listAdminTokens(ctx.gateway.database.db) }),
}));

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    createAdminToken: t.field({
      type: CreateAdminTokenPayload,
      args: { name: t.arg.string({ required: true }), role: t.arg({ type: AdminRole, required: true }) },
      resolve: (_root, args, ctx) => createAdminTokenAction(ctx.gateway, ctx.operator.name, { name: args.name, role: args.role }),
    }),
    revokeAdminToken: t.field({
      type: AdminToken,
      description: 'The token stops working on every replica at once. The last active admin token cannot be revoked.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => revokeAdminTokenAction(ctx.gateway, ctx.operator.name, String(args.id)),
    }),
  };
});
