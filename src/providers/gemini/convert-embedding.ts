import { embeddingInputs, type EmbeddingRequest } from '../../contract/embedding-request.js';
import { countTextTokens } from '../../tokens/count-tokens.js';
import type { EmbeddingResponse } from '../../contract/openai-shapes.js';
import { embeddingToBase64 } from '../../contract/embedding-base64.js';
import { ProviderError } from '../../contract/provider.js';
import type { z } from 'zod';
import type { geminiBatchEmbedResponseSchema } from './gemini-response-schema.js';

/** `batchEmbedContents`: one request per input text, `dimensions` as `outputDimensionality`. */
export function toGeminiBatchEmbedBody(req: EmbeddingRequest, upstreamModel: string): Record<string, unknown> {
  if (typeof req.input !== 'string' && typeof req.input[0] !== 'string') {
    throw new ProviderError('token-array input is not supported by gemini embedding models', 'client', undefined, undefined, 400);
  }
  return {
    requests: embeddingInputs(req).map((text) => ({
      model: `models/${upstreamModel}`,
      content: { parts: [{ text }] },
      ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
    })),
  };
}

/** Gemini reports no usage for embeddings, so the gateway counts the input itself. */
export function convertGeminiEmbeddingResponse(
  res: z.infer<typeof geminiBatchEmbedResponseSchema>,
  req: EmbeddingRequest,
  upstreamModel: string,
): EmbeddingResponse {
  const inputs = embeddingInputs(req);
  if (res.embeddings.length !== inputs.length) {
    throw new ProviderError(`gemini returned ${res.embeddings.length} embeddings for ${inputs.length} inputs`, 'bad_response', 200);
  }
  const base64 = req.encoding_format === 'base64';
  const prompt = inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
  return {
    object: 'list',
    data: res.embeddings.map((e, index) => ({
      object: 'embedding' as const,
      index,
      embedding: base64 ? embeddingToBase64(e.values) : e.values,
    })),
    model: upstreamModel,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}
