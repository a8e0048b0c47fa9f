import { z } from 'zod';
import { anthropicUsageSchema } from './anthropic-response-schema.js';

// The Messages API stream events the gateway reads. Unknown event types are
// ignored, as the API's versioning policy asks.

export const messageStartSchema = z.looseObject({
  type: z.literal('message_start'),
  message: z.looseObject({ id: z.string(), model: z.string().nullish(), usage: anthropicUsageSchema.nullish() }),
});

export const contentBlockStartSchema = z.looseObject({
  type: z.literal('content_block_start'),
  index: z.number().int().nonnegative(),
  content_block: z.looseObject({
    type: z.string(),
    id: z.string().nullish(),
    name: z.string().nullish(),
    text: z.string().nullish(),
    thinking: z.string().nullish(),
    data: z.string().nullish(),
  }),
});

export const contentBlockDeltaSchema = z.looseObject({
  type: z.literal('content_block_delta'),
  index: z.number().int().nonnegative(),
  delta: z.looseObject({
    type: z.string(),
    text: z.string().nullish(),
    partial_json: z.string().nullish(),
    thinking: z.string().nullish(),
    signature: z.string().nullish(),
  }),
});

export const messageDeltaSchema = z.looseObject({
  type: z.literal('message_delta'),
  delta: z.looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
  // Cumulative counts; newer API versions repeat the input counts here too.
  usage: anthropicUsageSchema.nullish(),
});

export const streamEventSchema = z.looseObject({ type: z.string() });
