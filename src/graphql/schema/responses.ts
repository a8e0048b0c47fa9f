import type { StoredItem, StoredResponse } from '../../core/doors/responses/response-store.js';
import { builder } from '../builder.js';

type StoredResponseRow = StoredResponse & { inputItems: StoredItem[]; createdAt: Date; updatedAt: Date; previousResponseId: string | null };

const ResponseStatus = builder.enumType('ResponseStatus', {
  values: {
    QUEUED: { value: 'queued', description: 'Background: saved, not started yet.' },
    IN_PROGRESS: { value: 'in_progress' },
    COMPLETED: { value: 'completed' },
    INCOMPLETE: { value: 'incomplete', description: 'Stopped at max_output_tokens or by a content filter.' },
    FAILED: { value: 'failed', description: 'See the error in `body`; also when the replica running it died.' },
    CANCELLED: { value: 'cancelled' },
  } as const,
});

const StoredResponseType = builder.objectRef<StoredResponseRow>('StoredResponse').implement({
  description: "A Responses API response a project stored (store=true), kept for RESPONSES_RETENTION_DAYS. The project's data: shown to operators for support.",
  fields: (t) => ({
    id: t.exposeID('id'),
    projectId: t.exposeID('projectId'),
    apiKeyId: t.exposeID('apiKeyId'),
    requestId: t.exposeID('requestId', { nullable: true, description: 'The usage row of the request that produced it.' }),
    status: t.expose('status', { type: ResponseStatus }),
    background: t.exposeBoolean('background'),
    previousResponseId: t.exposeID('previousResponseId', { nullable: true }),
    replicaId: t.exposeString('replicaId', { description: 'The replica that ran it.' }),
    body: t.field({ type: 'JSON', description: 'The response object as GET /v1/responses/{id} returns it.', resolve: (r) => r.body }),
    inputItems: t.field({ type: 'JSON', description: "This turn's input items as input_items lists them, oldest first.", resolve: (r) => r.inputItems }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  response: t.field({
    type: StoredResponseType,
    nullable: true,
    description: 'A stored Responses API response of any project, by id; null when there is none (never stored, deleted or purged).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await ctx.gateway.responseStore.findAny(String(args.id))) ?? null,
  }),
}));
