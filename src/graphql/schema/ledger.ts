import type { BalanceEvent as BalanceEventShape } from '../../core/events/event-bus.js';
import { formatMoney, parseMoney } from '../../core/money.js';
import { adjustBalanceAction, type BalanceChangeResult, creditBalanceAction } from '../../core/projects/project-actions.js';
import { findProject } from '../../core/projects/project-admin.js';
import { listLedgerEntries } from '../../core/projects/project-queries.js';
import type { ledgerEntries } from '../../db/schema.js';
import { builder } from '../builder.js';
import { busFeed } from '../bus-feed.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';
import { Project } from './project.js';
import { decimalText } from './scalars.js';

type LedgerRow = typeof ledgerEntries.$inferSelect;

const LedgerKind = builder.enumType('LedgerKind', {
  values: { CREDIT: { value: 'credit' }, ADJUSTMENT: { value: 'adjustment' }, CHARGE: { value: 'charge' }, REFUND: { value: 'refund' } } as const,
});

export const LedgerEntry = builder.objectRef<LedgerRow>('LedgerEntry').implement({
  description: 'One change of a project’s balance; the balance is the sum of its entries.',
  fields: (t) => ({
    id: t.exposeID('id'),
    projectId: t.exposeID('projectId'),
    kind: t.expose('kind', { type: LedgerKind }),
    amount: t.field({ type: 'Decimal', description: 'Signed: credits positive, charges negative.', resolve: (e) => decimalText(e.amount) }),
    balanceAfter: t.field({ type: 'Decimal', resolve: (e) => decimalText(e.balanceAfter) }),
    requestId: t.exposeString('requestId', { nullable: true }),
    reason: t.exposeString('reason'),
    actor: t.exposeString('actor'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const LedgerEntryConnection = connectionType('LedgerEntry', LedgerEntry);

const LedgerFilter = builder.inputType('LedgerFilter', {
  fields: (t) => ({
    projectId: t.id(),
    kinds: t.field({ type: [LedgerKind] }),
    requestId: t.string(),
    from: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

builder.objectField(Project, 'ledger', (t) =>
  t.field({
    type: LedgerEntryConnection,
    description: 'This project’s ledger, newest first.',
    args: pageArgs(t.arg),
    complexity: pageComplexity,
    resolve: async (project, args, ctx) => toConnection(await listLedgerEntries(ctx.gateway.database.db, { projectId: project.id }, args)),
  }),
);

builder.queryField('ledgerEntries', (t) =>
  t.field({
    type: LedgerEntryConnection,
    description: 'Ledger entries across projects, newest first.',
    args: { filter: t.arg({ type: LedgerFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) =>
      toConnection(
        await listLedgerEntries(
          ctx.gateway.database.db,
          {
            projectId: args.filter?.projectId ? String(args.filter.projectId) : null,
            kinds: args.filter?.kinds ?? null,
            requestId: args.filter?.requestId ?? null,
            from: args.filter?.from ?? null,
            to: args.filter?.to ?? null,
          },
          args,
        ),
      ),
  }),
);

const BalanceChange = builder.objectRef<BalanceChangeResult>('BalanceChange').implement({
  fields: (t) => ({
    balance: t.field({ type: 'Decimal', resolve: (c) => formatMoney(c.balance) }),
    reserved: t.field({ type: 'Decimal', resolve: (c) => formatMoney(c.reserved) }),
    ledgerEntry: t.field({ type: LedgerEntry, resolve: (c) => c.ledgerEntry }),
    project: t.field({ type: Project, resolve: (c, _args, ctx) => findProject(ctx.gateway.database.db, c.projectId) }),
  }),
});

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    creditBalance: t.field({
      type: BalanceChange,
      description: 'Adds money (a top-up) with a ledger entry.',
      args: { projectId: t.arg.id({ required: true }), amount: t.arg({ type: 'Decimal', required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => creditBalanceAction(ctx.gateway, ctx.operator.name, { projectId: String(args.projectId), amount: args.amount, reason: args.reason }),
    }),
    adjustBalance: t.field({
      type: BalanceChange,
      description: 'Corrects a balance by a signed amount with a ledger entry; never below what in-flight requests reserved.',
      args: { projectId: t.arg.id({ required: true }), amount: t.arg({ type: 'Decimal', required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => adjustBalanceAction(ctx.gateway, ctx.operator.name, { projectId: String(args.projectId), amount: args.amount, reason: args.reason }),
    }),
  };
});

const BalanceEvent = builder.objectRef<BalanceEventShape>('BalanceEvent').implement({
  fields: (t) => ({
    projectId: t.exposeID('projectId'),
    balance: t.field({ type: 'Decimal', resolve: (e) => decimalText(e.balance) }),
    reserved: t.field({ type: 'Decimal', resolve: (e) => decimalText(e.reserved) }),
    available: t.field({ type: 'Decimal', resolve: (e) => formatMoney(parseMoney(e.balance) - parseMoney(e.reserved)) }),
  }),
});

builder.subscriptionField('balance', (t) =>
  t.field({
    type: BalanceEvent,
    description: 'The project’s balance now, then on every charge, credit or adjustment, from any replica.',
    args: { projectId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const projectId = String(args.projectId);
      await findProject(ctx.gateway.database.db, projectId);
      return busFeed(ctx, 'balance', {
        accept: (event) => event.projectId === projectId,
        initial: async () => {
          const row = await findProject(ctx.gateway.database.db, projectId);
          return [{ projectId, balance: row.balance, reserved: row.reserved }];
        },
      });
    },
    resolve: (event) => event,
  }),
);
