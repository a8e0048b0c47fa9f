import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { countGeminiTokens } from '../../core/doors/gemini/count-tokens.js';
import { BATCH_EMBED_CONTENTS_PLAN, EMBED_CONTENT_PLAN, embedBody, renderBatchEmbedContents, renderEmbedContent } from '../../core/doors/gemini/embed-request.js';
import { GENERATE_CONTENT_PLAN, generateContentBody } from '../../core/doors/gemini/generate-plan.js';
import { renderGoogleError } from '../../core/doors/gemini/render-error.js';
import { renderGenerateContent } from '../../core/doors/gemini/render-response.js';
import { geminiStreamEvents, jsonArrayEvents, sseEvents } from '../../core/doors/gemini/render-stream.js';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { installErrorHandlers } from '../error-handler.js';
import { requestContext } from '../request-context.js';
import { writeSse } from '../write-sse.js';

const ACTIONS = ['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * `{model}:{action}` from the rest of the path. A colon cannot be written
 * in a Fastify route (it starts a parameter), so the door takes the whole
 * rest and splits at the last colon; `models/x` and `x` name the same model,
 * and a model id may hold slashes.
 */
function modelAndAction(rest: string): { model: string; action: Action } {
  const colon = rest.lastIndexOf(':');
  const action = rest.slice(colon + 1);
  let model = colon > 0 ? rest.slice(0, colon) : '';
  if (model.startsWith('models/')) model = model.slice('models/'.length);
  if (!model || !(ACTIONS as readonly string[]).includes(action)) {
    throw new GatewayError('not_found', `Unknown method: expected models/{model}:${ACTIONS.join('|')}.`);
  }
  return { model, action: action as Action };
}

async function handle(gateway: Gateway, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const { model, action } = modelAndAction((request.params as { '*': string })['*']);
  const ctx = await requestContext(gateway, request, reply);
  switch (action) {
    case 'countTokens': {
      const counted = await countGeminiTokens(gateway, ctx, request.body === null || typeof request.body !== 'object' ? request.body : { ...request.body, model });
      return reply.header('x-gateway-token-count', counted.source).send({ totalTokens: counted.totalTokens });
    }
    case 'embedContent': {
      const result = await gateway.embeddings.embed(ctx, embedBody(request.body, model), EMBED_CONTENT_PLAN);
      return reply.headers(result.headers).send(renderEmbedContent(result.body));
    }
    case 'batchEmbedContents': {
      const result = await gateway.embeddings.embed(ctx, embedBody(request.body, model), BATCH_EMBED_CONTENTS_PLAN);
      return reply.headers(result.headers).send(renderBatchEmbedContents(result.body));
    }
    default: {
      const stream = action === 'streamGenerateContent';
      const body = generateContentBody(request.body, model, stream);
      const includeThoughts = (body as { generationConfig?: { thinkingConfig?: { includeThoughts?: unknown } } } | null)?.generationConfig?.thinkingConfig?.includeThoughts === true;
      const run = await gateway.chat.run(ctx, body, GENERATE_CONTENT_PLAN);
      const options = { model, includeThoughts };
      if (run.kind === 'json') return reply.headers(run.headers).send(renderGenerateContent(run.completion, options));
      const events = geminiStreamEvents(run.batches, options);
      if ((request.query as { alt?: string }).alt === 'sse') return writeSse(request, reply, run.headers, sseEvents(events), 'text/event-stream');
      return writeSse(request, reply, run.headers, jsonArrayEvents(events), 'application/json; charset=UTF-8');
    }
  }
}

/**
 * The Gemini door, in its own scope so every error on it (auth, parsing,
 * unknown paths) is Google's `{ error: { code, message, status } }`.
 * `prefix` is `/v1beta` (the GenAI SDK's default) or `/v1` (its
 * `apiVersion: 'v1'`).
 */
export function geminiRoutes(app: FastifyInstance, gateway: Gateway, path: string): void {
  installErrorHandlers(app, renderGoogleError);
  app.post(path, (request, reply) => handle(gateway, request, reply));
}
