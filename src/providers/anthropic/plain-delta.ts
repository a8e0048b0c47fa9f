import type { z } from 'zod';
import { isObject, optString } from '../http/json-checks.js';
import type { contentBlockDeltaSchema } from './anthropic-stream-schema.js';

type BlockDelta = z.infer<typeof contentBlockDeltaSchema>;

// Most events of a Messages API stream are `content_block_delta`s, each of
// which went through two zod schemas (the event's type, then its shape), both
// building a copy. For that one event these checks ask what the two schemas
// ask and let the parsed JSON through as it is; every other event still goes
// through the schemas (see openai/plain-chunk.ts for why, and
// test/providers/anthropic/plain-delta.test.ts, which holds them to the same answers).

/** The event itself when it is a content_block_delta the schema would accept as it is; else undefined. */
export function plainBlockDelta(json: unknown): BlockDelta | undefined {
  if (!isObject(json) || json.type !== 'content_block_delta') return undefined;
  const { index, delta } = json;
  if (!(typeof index === 'number' && Number.isInteger(index) && index >= 0)) return undefined;
  if (!isObject(delta) || typeof delta.type !== 'string') return undefined;
  if (!(optString(delta.text) && optString(delta.partial_json) && optString(delta.thinking) && optString(delta.signature))) return undefined;
  return json as BlockDelta;
}
