import { z } from 'zod';

// The fields /v1/messages/count_tokens takes; it refuses the others a
// Messages body has (max_tokens, stream, sampling).
const COUNTED_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking'];

/** A Messages API body cut to what count_tokens accepts. */
export function countTokensBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of COUNTED_FIELDS) if (body[field] !== undefined) out[field] = body[field];
  return out;
}

export const countTokensResponseSchema = z.looseObject({ input_tokens: z.number().int().nonnegative() });
