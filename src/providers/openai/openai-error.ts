import { z } from 'zod';
import type { UpstreamErrorDetails } from '../http/upstream-error.js';

// `{"error":{"message","type","param","code"}}`. Compatible servers vary, so
// a bare string `error` and a top-level `message` are read as well.
export const openaiErrorSchema = z.looseObject({
  error: z.union([
    z.looseObject({
      message: z.string().nullish(),
      type: z.string().nullish(),
      param: z.string().nullish(),
      code: z.union([z.string(), z.number()]).nullish(),
    }),
    z.string(),
  ]),
});

const bareMessageSchema = z.looseObject({ message: z.string() });

export function openaiErrorDetails(body: unknown): UpstreamErrorDetails {
  const parsed = openaiErrorSchema.safeParse(body);
  if (parsed.success) {
    const error = parsed.data.error;
    if (typeof error === 'string') return { message: error };
    return error.message ? { message: error.message } : {};
  }
  const bare = bareMessageSchema.safeParse(body);
  return bare.success ? { message: bare.data.message } : {};
}
