import type { ChatRequest } from '../../contract/chat-request.js';
import type { EmbeddingRequest } from '../../contract/embedding-request.js';
import { newId } from '../../contract/ids.js';
import { joinUrl } from '../http/join-url.js';
import { parseUpstream } from '../http/parse-upstream.js';
import { readJsonBody } from '../http/read-body.js';
import { sendUpstream } from '../http/send-upstream.js';
import { translateEventStream } from '../http/translate-event-stream.js';
import type { ChatCompletion, EmbeddingResponse } from '../../contract/openai-shapes.js';
import type { CallContext, ChatStream, ProviderAdapter } from '../../contract/provider.js';
import { convertOpenAIEmbeddingResponse, toOpenAIEmbeddingBody } from './convert-embedding.js';
import { toOpenAIChatBody } from './convert-request.js';
import { convertOpenAIResponse } from './convert-response.js';
import type { OpenAIDialect } from './openai-dialect.js';
import { openaiErrorDetails } from './openai-error.js';
import { openaiCompletionSchema, openaiEmbeddingResponseSchema } from './openai-response-schema.js';
import { plainCompletion } from './plain-completion.js';
import { OpenAIStreamTranslator } from './stream-translator.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** OpenAI, DeepSeek and any OpenAI-compatible server: one wire format, a dialect for the extensions. */
export function createOpenAIAdapter(dialect: OpenAIDialect): ProviderAdapter {
  const send = (path: string, body: unknown, ctx: CallContext, accept?: string) =>
    sendUpstream(joinUrl(ctx.target.baseUrl, path), {
      provider: dialect.label,
      headers: { authorization: `Bearer ${ctx.target.apiKey}` },
      body,
      signal: ctx.signal,
      transport: ctx.transport,
      apiKey: ctx.target.apiKey,
      errorDetails: openaiErrorDetails,
      ...(accept ? { accept } : {}),
    });

  return {
    info: dialect.info,

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
      const body = toOpenAIChatBody(req, ctx.target.upstreamModel, dialect, false, ctx.maxOutputTokens);
      const res = await send('/chat/completions', body, ctx);
      const json = await readJsonBody(res.body, dialect.label, ctx.signal);
      const completion = plainCompletion(json) ?? parseUpstream(openaiCompletionSchema, json, dialect.label);
      return convertOpenAIResponse(completion, req, {
        upstreamModel: ctx.target.upstreamModel,
        now: nowSeconds(),
        fallbackId: newId('chatcmpl', 24),
      });
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<ChatStream> {
      const body = toOpenAIChatBody(req, ctx.target.upstreamModel, dialect, true, ctx.maxOutputTokens);
      const res = await send('/chat/completions', body, ctx, 'text/event-stream');
      const translator = new OpenAIStreamTranslator(dialect.label, ctx.target.upstreamModel, nowSeconds(), newId('chatcmpl', 24));
      return { chunks: translateEventStream(res.body, translator, dialect.label, ctx.signal) };
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const res = await send('/embeddings', toOpenAIEmbeddingBody(req, ctx.target.upstreamModel), ctx);
      const json = await readJsonBody(res.body, dialect.label, ctx.signal);
      const parsed = parseUpstream(openaiEmbeddingResponseSchema, json, dialect.label);
      return convertOpenAIEmbeddingResponse(parsed, req, ctx.target.upstreamModel);
    },
  };
}
