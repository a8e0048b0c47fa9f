import { findModel, type ModelWithRoutes } from '../../core/catalogue/model-queries.js';
import { ALL_MODELS } from '../../core/permissions/permission-store.js';
import { setModelPermissionsAction } from '../../core/projects/project-actions.js';
import { type PermissionRow, projectsPermissions } from '../../core/projects/project-queries.js';
import { builder } from '../builder.js';
import { Model } from './model.js';
import { Project } from './project.js';

const ModelPermission = builder.objectRef<PermissionRow>('ModelPermission').implement({
  description: 'A model a project may use; modelId "*" permits the whole catalogue.',
  fields: (t) => ({
    projectId: t.exposeID('projectId'),
    modelId: t.exposeString('modelId'),
    allModels: t.boolean({ resolve: (p) => p.modelId === ALL_MODELS }),
    model: t.field({
      type: Model,
      nullable: true,
      description: 'Null for "*" or a model no longer in the catalogue.',
      resolve: async (p, _args, ctx): Promise<ModelWithRoutes | null> =>
        p.modelId === ALL_MODELS ? null : ((await findModel(ctx.gateway.database.db, p.modelId)) ?? null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.objectFields(Project, (t) => ({
  // One query per operation for every project in a list.
  permissions: t.loadableList({
    type: ModelPermission,
    description: 'The models this project may use (an empty list: none).',
    load: async (projectIds: string[], ctx) => {
      const byProject = await projectsPermissions(ctx.gateway.database.db, projectIds);
      return projectIds.map((id) => byProject.get(id) ?? []);
    },
    resolve: (project) => project.id,
  }),
  allModels: t.boolean({
    description: 'True when the project may use every model ("*").',
    resolve: async (project, _args, ctx) => (await ctx.gateway.permissions.allowed(project.id)).has(ALL_MODELS),
  }),
}));

builder.mutationFields((base) => {
  const t = base.withAuth({ admin: true });
  return {
    setModelPermissions: t.field({
      type: Project,
      description: 'Replaces the models a project may use: ["*"] = all, [] = none. /v1/models reflects it at once.',
      args: { projectId: t.arg.id({ required: true }), models: t.arg.stringList({ required: true }) },
      resolve: (_root, args, ctx) => setModelPermissionsAction(ctx.gateway, ctx.operator.name, { projectId: String(args.projectId), models: args.models }),
    }),
  };
});
