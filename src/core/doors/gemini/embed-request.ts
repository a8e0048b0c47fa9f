import { z } from 'zod';
import type { EmbeddingRequest } from '../../../contract/embedding-request.js';
import { identifierText } from '../../../contract/text-limits.js';
import type { EmbeddingResponse } from '../../../contract/openai-shapes.js';
import { type EmbeddingDoorPlan, embeddingSize } from '../../embeddings/embedding-service.js';
import { GatewayError } from '../../errors.js';

// embedContent and batchEmbedContents as the gateway's embedding request.
// Only text is embedded; taskType and title are accepted (the OpenAI-wire
// upstreams have no such hint) and ignored.

const textContent = z.looseObject({
  parts: z.array(z.looseObject({ text: z.string().min(1, 'must not be empty') })).min(1, 'must not be empty'),
});

const embedFields = {
  content: textContent,
  taskType: z.string().optional(),
  title: z.string().optional(),
  outputDimensionality: z.number().int().positive().max(8192).optional(),
};

export const embedContentSchema = z.looseObject({ model: identifierText(), ...embedFields });
export const batchEmbedContentsSchema = z.looseObject({
  model: identifierText(),
  requests: z.array(z.looseObject({ model: z.string().optional(), ...embedFields })).min(1, 'must contain at least one request').max(2048),
});

const textOf = (content: z.infer<typeof textContent>): string => content.parts.map((p) => p.text).join('\n');
const bareModel = (name: string): string => (name.startsWith('models/') ? name.slice('models/'.length) : name);

function batchToEmbedding(req: z.infer<typeof batchEmbedContentsSchema>): EmbeddingRequest {
  const dimensions = req.requests[0]!.outputDimensionality;
  req.requests.forEach((r, i) => {
    if (r.model !== undefined && bareModel(r.model) !== req.model) {
      throw new GatewayError('invalid_request', `Invalid value for 'requests.${i}.model': it must be the model of the URL (models/${req.model}).`, { param: `requests.${i}.model` });
    }
    if (r.outputDimensionality !== dimensions) {
      throw new GatewayError('invalid_request', `Invalid value for 'requests.${i}.outputDimensionality': every request of a batch must ask for the same dimensionality.`, { param: `requests.${i}.outputDimensionality` });
    }
  });
  return { model: req.model, input: req.requests.map((r) => textOf(r.content)), ...(dimensions !== undefined ? { dimensions } : {}) };
}

const singleToEmbedding = (req: z.infer<typeof embedContentSchema>): EmbeddingRequest => ({
  model: req.model,
  input: textOf(req.content),
  ...(req.outputDimensionality !== undefined ? { dimensions: req.outputDimensionality } : {}),
});

export const EMBED_CONTENT_PLAN: EmbeddingDoorPlan<typeof embedContentSchema> = {
  endpoint: 'embed_content',
  schema: embedContentSchema,
  model: (req) => req.model,
  stream: () => false,
  size: (req) => embeddingSize(singleToEmbedding(req)),
  toEmbedding: singleToEmbedding,
};

export const BATCH_EMBED_CONTENTS_PLAN: EmbeddingDoorPlan<typeof batchEmbedContentsSchema> = {
  endpoint: 'embed_content',
  schema: batchEmbedContentsSchema,
  model: (req) => req.model,
  stream: () => false,
  // Checked here, inside admission: a refusal is recorded and nothing is reserved.
  size: (req) => embeddingSize(batchToEmbedding(req)),
  toEmbedding: batchToEmbedding,
};

const values = (embedding: number[] | string): number[] => (typeof embedding === 'string' ? [] : embedding);

export const renderEmbedContent = (res: EmbeddingResponse) => ({ embedding: { values: values(res.data[0]?.embedding ?? []) } });
export const renderBatchEmbedContents = (res: EmbeddingResponse) => ({ embeddings: res.data.map((d) => ({ values: values(d.embedding) })) });

/** The door's body for admission: the path's model on Google's body. */
export function embedBody(body: unknown, model: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  // The key first, set again after the client's: see generateContentBody.
  const out: Record<string, unknown> = { model, ...(body as Record<string, unknown>) };
  out.model = model;
  return out;
}
