import type { ChatRequest } from '../../contract/chat-request.js';
import { newId } from '../../contract/ids.js';
import { joinUrl } from '../http/join-url.js';
import { parseUpstream } from '../http/parse-upstream.js';
import { readJsonBody } from '../http/read-body.js';
import { sendUpstream } from '../http/send-upstream.js';
import { translateEventStream } from '../http/translate-event-stream.js';
import type { ChatCompletion, EmbeddingResponse } from '../../contract/openai-shapes.js';
import { ProviderError, type CallContext, type ChatStream, type ProviderAdapter } from '../../contract/provider.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import { anthropicErrorDetails } from './anthropic-error.js';
import { anthropicMessageSchema } from './anthropic-response-schema.js';
import { ANTHROPIC_BETA_HINT, passedBetas } from './beta-header.js';
import { countTokensBody, countTokensResponseSchema } from './count-tokens.js';
import { toAnthropicRequest } from './convert-request.js';
import { convertAnthropicResponse } from './convert-response.js';
import { AnthropicStreamTranslator } from './stream-translator.js';

export const ANTHROPIC_VERSION = '2023-06-01';
const PROVIDER = 'anthropic';

// The base URL is the origin, as Anthropic's SDK takes it; the adapter adds the path.
export const anthropicInfo: ProviderInfo = {
  id: PROVIDER,
  displayName: 'Anthropic',
  defaultBaseUrl: 'https://api.anthropic.com',
  seedEnv: 'ANTHROPIC_API_KEY',
  capabilities: { embeddings: false },
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

function send(body: unknown, ctx: CallContext, accept?: string, path = '/v1/messages') {
  const betas = passedBetas(ctx.hints?.[ANTHROPIC_BETA_HINT]);
  return sendUpstream(joinUrl(ctx.target.baseUrl, path), {
    provider: PROVIDER,
    headers: { 'x-api-key': ctx.target.apiKey, 'anthropic-version': ANTHROPIC_VERSION, ...(betas ? { 'anthropic-beta': betas } : {}) },
    body,
    signal: ctx.signal,
    transport: ctx.transport,
    apiKey: ctx.target.apiKey,
    errorDetails: anthropicErrorDetails,
    ...(accept ? { accept } : {}),
  });
}

export function createAnthropicAdapter(): ProviderAdapter {
  return {
    info: anthropicInfo,

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
      const plan = toAnthropicRequest(req, ctx.target.upstreamModel, false, ctx.maxOutputTokens);
      const res = await send(plan.body, ctx);
      const json = await readJsonBody(res.body, PROVIDER, ctx.signal);
      const message = parseUpstream(anthropicMessageSchema, json, PROVIDER);
      return convertAnthropicResponse(message, {
        upstreamModel: ctx.target.upstreamModel,
        now: nowSeconds(),
        ...(plan.jsonToolName ? { jsonToolName: plan.jsonToolName } : {}),
      });
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<ChatStream> {
      const plan = toAnthropicRequest(req, ctx.target.upstreamModel, true, ctx.maxOutputTokens);
      const res = await send(plan.body, ctx, 'text/event-stream');
      const translator = new AnthropicStreamTranslator({
        upstreamModel: ctx.target.upstreamModel,
        now: nowSeconds(),
        fallbackId: newId('msg', 24),
        ...(plan.jsonToolName ? { jsonToolName: plan.jsonToolName } : {}),
      });
      return { chunks: translateEventStream(res.body, translator, PROVIDER, ctx.signal) };
    },

    async countTokens(req: ChatRequest, ctx: CallContext): Promise<number> {
      const plan = toAnthropicRequest(req, ctx.target.upstreamModel, false, ctx.maxOutputTokens);
      const res = await send(countTokensBody(plan.body), ctx, undefined, '/v1/messages/count_tokens');
      const json = await readJsonBody(res.body, PROVIDER, ctx.signal);
      return parseUpstream(countTokensResponseSchema, json, PROVIDER).input_tokens;
    },

    async embed(): Promise<EmbeddingResponse> {
      throw new ProviderError('embeddings are not offered by anthropic', 'client', undefined, undefined, 400);
    },
  };
}
