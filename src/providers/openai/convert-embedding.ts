import { embeddingInputs, type EmbeddingRequest } from '../../contract/embedding-request.js';
import { countTextTokens } from '../../tokens/count-tokens.js';
import type { EmbeddingResponse } from '../../contract/openai-shapes.js';
import { embeddingToBase64 } from '../../contract/embedding-base64.js';
import { withoutGatewayFields } from './gateway-fields.js';
import type { openaiEmbeddingResponseSchema } from './openai-response-schema.js';
import type { z } from 'zod';

/** Pass-through, always asking for floats: base64 is encoded by the gateway, so usage and dimensions stay checkable. */
export function toOpenAIEmbeddingBody(req: EmbeddingRequest, upstreamModel: string): Record<string, unknown> {
  // Set on the copy, not spread again: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
  const body = withoutGatewayFields(req);
  body.model = upstreamModel;
  body.encoding_format = 'float';
  return body;
}

export function convertOpenAIEmbeddingResponse(
  res: z.infer<typeof openaiEmbeddingResponseSchema>,
  req: EmbeddingRequest,
  upstreamModel: string,
): EmbeddingResponse {
  const base64 = req.encoding_format === 'base64';
  const data = res.data
    .map((item, position) => ({ index: item.index ?? position, values: item.embedding }))
    .sort((a, b) => a.index - b.index)
    .map((item) => ({
      object: 'embedding' as const,
      index: item.index,
      embedding: base64 ? embeddingToBase64(item.values) : item.values,
    }));
  const prompt = res.usage?.prompt_tokens ?? embeddingInputs(req).reduce((sum, text) => sum + countTextTokens(text), 0);
  return {
    object: 'list',
    data,
    model: res.model ?? upstreamModel,
    usage: { prompt_tokens: prompt, total_tokens: res.usage?.total_tokens ?? prompt },
  };
}
