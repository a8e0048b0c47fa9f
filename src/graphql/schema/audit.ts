import { type AuditRow, listAuditLog } from '../../core/audit/audit-log.js';
import { builder } from '../builder.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';

const AuditEntry = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'One operator change: who (the operator token’s name), what, when, and the target before and after, secrets redacted.',
  fields: (t) => ({
    id: t.exposeID('id'),
    actor: t.exposeString('actor'),
    action: t.exposeString('action', { description: 'The mutation’s name, such as revokeApiKey.' }),
    targetType: t.exposeString('targetType', { description: 'project, api-key, model, upstream-key or admin-token.' }),
    targetId: t.exposeID('targetId', { nullable: true }),
    before: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.before }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.after }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuditEntryConnection = connectionType('AuditEntry', AuditEntry);

const AuditFilter = builder.inputType('AuditFilter', {
  fields: (t) => ({
    actor: t.string(),
    action: t.string(),
    targetType: t.string(),
    targetId: t.id(),
    from: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.field({
    type: AuditEntryConnection,
    description: 'Every change made through the admin API, newest first.',
    args: { filter: t.arg({ type: AuditFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) =>
      toConnection(
        await listAuditLog(
          ctx.gateway.database.db,
          {
            actor: args.filter?.actor ?? null,
            action: args.filter?.action ?? null,
            targetType: args.filter?.targetType ?? null,
            targetId: args.filter?.targetId ? String(args.filter.targetId) : null,
            from: args.filter?.from ?? null,
            to: args.filter?.to ?? null,
          },
          args,
        ),
      ),
  }),
);
