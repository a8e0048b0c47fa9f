import { randomBytes } from 'node:crypto';
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
import type { ProviderInfo } from '../../contract/provider-info.js';
import { convertGeminiEmbeddingResponse, toGeminiBatchEmbedBody } from './convert-embedding.js';
import { toGeminiRequest } from './convert-request.js';
import { convertGeminiResponse } from './convert-response.js';
import { geminiErrorDetails } from './gemini-error.js';
import { geminiBatchEmbedResponseSchema, geminiCountTokensResponseSchema, geminiResponseSchema } from './gemini-response-schema.js';
import { GeminiStreamTranslator } from './stream-translator.js';

const PROVIDER = 'gemini';

// The base URL is the origin, as Google's SDK takes it; the adapter adds `/v1beta/models/…`.
export const geminiInfo: ProviderInfo = {
  id: PROVIDER,
  displayName: 'Google Gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  seedEnv: 'GEMINI_API_KEY',
  capabilities: { embeddings: true },
};
const nowSeconds = () => Math.floor(Date.now() / 1000);
const newToolCallId = () => `call_${randomBytes(12).toString('hex')}`;

/** `{base}/v1beta/models/{model}:{method}`; a catalogue name given as `models/x` works too. */
export function geminiUrl(baseUrl: string, model: string, method: string): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return joinUrl(baseUrl, `/v1beta/models/${encodeURIComponent(name)}:${method}`);
}

function send(url: string, body: unknown, ctx: CallContext, accept?: string) {
  return sendUpstream(url, {
    provider: PROVIDER,
    headers: { 'x-goog-api-key': ctx.target.apiKey },
    body,
    signal: ctx.signal,
    transport: ctx.transport,
    apiKey: ctx.target.apiKey,
    errorDetails: geminiErrorDetails,
    ...(accept ? { accept } : {}),
  });
}

export function createGeminiAdapter(): ProviderAdapter {
  return {
    info: geminiInfo,

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
      const { baseUrl, upstreamModel } = ctx.target;
      const res = await send(geminiUrl(baseUrl, upstreamModel, 'generateContent'), toGeminiRequest(req, upstreamModel, ctx.maxOutputTokens), ctx);
      const json = await readJsonBody(res.body, PROVIDER, ctx.signal);
      const parsed = parseUpstream(geminiResponseSchema, json, PROVIDER);
      return convertGeminiResponse(parsed, { upstreamModel, now: nowSeconds(), fallbackId: newId('chatcmpl', 24), newToolCallId });
    },

    async chatStream(req: ChatRequest, ctx: CallContext): Promise<ChatStream> {
      const { baseUrl, upstreamModel } = ctx.target;
      const url = `${geminiUrl(baseUrl, upstreamModel, 'streamGenerateContent')}?alt=sse`;
      const res = await send(url, toGeminiRequest(req, upstreamModel, ctx.maxOutputTokens), ctx, 'text/event-stream');
      const translator = new GeminiStreamTranslator({ upstreamModel, now: nowSeconds(), fallbackId: newId('chatcmpl', 24), newToolCallId });
      return { chunks: translateEventStream(res.body, translator, PROVIDER, ctx.signal) };
    },

    /** `countTokens` over the whole request as it would be sent (system instruction and tools count too). */
    async countTokens(req: ChatRequest, ctx: CallContext): Promise<number> {
      const { baseUrl, upstreamModel } = ctx.target;
      const generateContentRequest = { model: `models/${upstreamModel.replace(/^models\//, '')}`, ...toGeminiRequest(req, upstreamModel) };
      const res = await send(geminiUrl(baseUrl, upstreamModel, 'countTokens'), { generateContentRequest }, ctx);
      const json = await readJsonBody(res.body, PROVIDER, ctx.signal);
      return parseUpstream(geminiCountTokensResponseSchema, json, PROVIDER).totalTokens;
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const { baseUrl, upstreamModel } = ctx.target;
      const res = await send(geminiUrl(baseUrl, upstreamModel, 'batchEmbedContents'), toGeminiBatchEmbedBody(req, upstreamModel), ctx);
      const json = await readJsonBody(res.body, PROVIDER, ctx.signal);
      const parsed = parseUpstream(geminiBatchEmbedResponseSchema, json, PROVIDER);
      return convertGeminiEmbeddingResponse(parsed, req, upstreamModel);
    },
  };
}
