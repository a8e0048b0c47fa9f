import { parseMoney } from '../../core/money.js';
import { archiveProjectAction, createProjectAction, updateProjectAction } from '../../core/projects/project-actions.js';
import type { ProjectRow } from '../../core/projects/project-admin.js';
import { listProjects, projectById } from '../../core/projects/project-queries.js';
import { builder } from '../builder.js';
import { connectionType, pageArgs, pageComplexity, toConnection } from './connection.js';
import { decimalText } from './scalars.js';

export const ProjectStatus = builder.enumType('ProjectStatus', {
  values: { ACTIVE: { value: 'active' }, ARCHIVED: { value: 'archived' } } as const,
});

export const Project = builder.objectRef<ProjectRow>('Project').implement({
  description: 'A client project: a prepaid balance, API keys, the models it may use. Other domains add apiKeys, permissions, ledger and usage.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    status: t.expose('status', { type: ProjectStatus }),
    currency: t.exposeString('currency'),
    balance: t.field({ type: 'Decimal', description: 'Always equals the sum of the ledger.', resolve: (p) => decimalText(p.balance) }),
    reserved: t.field({ type: 'Decimal', description: 'Worst-case cost held by in-flight requests.', resolve: (p) => decimalText(p.reserved) }),
    available: t.field({ type: 'Decimal', description: 'balance − reserved: what new requests can still spend.', resolve: (p) => decimalText(parseMoney(p.balance) - parseMoney(p.reserved)) }),
    rpmLimit: t.exposeInt('rpmLimit', { nullable: true }),
    tpmLimit: t.exposeInt('tpmLimit', { nullable: true }),
    capturePayloads: t.exposeBoolean('capturePayloads', {
      description: "Whether prompts and answers are stored (redacted, compressed, kept PAYLOAD_RETENTION_DAYS) for the request explorer. Off by default.",
    }),
    redactPatterns: t.exposeStringList('redactPatterns', { description: 'Regular expressions whose matches are replaced by [REDACTED] before a payload is stored.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const ProjectConnection = connectionType('Project', Project);

const ProjectFilter = builder.inputType('ProjectFilter', {
  fields: (t) => ({
    status: t.field({ type: ProjectStatus }),
    search: t.string({ description: 'Part of the name, case-insensitive.' }),
  }),
});

builder.queryFields((t) => ({
  project: t.field({
    type: Project,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await projectById(ctx.gateway.database.db, String(args.id))) ?? null,
  }),
  projects: t.field({
    type: ProjectConnection,
    description: 'Projects, newest first.',
    args: { filter: t.arg({ type: ProjectFilter }), ...pageArgs(t.arg) },
    complexity: pageComplexity,
    resolve: async (_root, args, ctx) =>
      toConnection(await listProjects(ctx.gateway.database.db, { status: args.filter?.status ?? null, search: args.filter?.search ?? null }, args)),
  }),
}));

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    initialBalance: t.field({ type: 'Decimal', description: 'Credited through the ledger as the first entry.' }),
    currency: t.string({ description: 'ISO code, default USD.' }),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
    models: t.stringList({ description: 'Models the project may use from the start; ["*"] = all.' }),
  }),
});

const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  description: 'Fields left out stay as they are; a limit set to null is removed.',
  fields: (t) => ({
    name: t.string(),
    rpmLimit: t.int(),
    tpmLimit: t.int(),
    capturePayloads: t.boolean({ description: "Store this project's prompts and answers for the request explorer (audited like every change here)." }),
    redactPatterns: t.stringList({
      description:
        'Replaces the list: JavaScript regular expressions (flag g), at most 20 of at most 200 characters; nested quantifiers such as (a+)+ and backreferences are refused. Matches become [REDACTED] before storage.',
    }),
  }),
});

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    createProject: t.field({
      type: Project,
      args: { input: t.arg({ type: CreateProjectInput, required: true }) },
      resolve: (_root, { input }, ctx) => createProjectAction(ctx.gateway, ctx.operator.name, input),
    }),
    updateProject: t.field({
      type: Project,
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateProjectInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => updateProjectAction(ctx.gateway, ctx.operator.name, { id: String(id), ...input }),
    }),
    archiveProject: t.field({
      type: Project,
      description: "Archives a project: its keys stop working on every replica at once; rows and ledger stay.",
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => archiveProjectAction(ctx.gateway, ctx.operator.name, String(id)),
    }),
  };
});
