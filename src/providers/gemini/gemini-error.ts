import { z } from 'zod';
import type { UpstreamErrorDetails } from '../http/upstream-error.js';
import { parseDurationMs } from './parse-duration.js';

// `{"error":{"code","message","status","details":[{"@type", …}]}}`, the
// google.rpc.Status shape, sometimes wrapped in a one-element array.
const detailSchema = z.looseObject({
  '@type': z.string().optional(),
  reason: z.string().optional(),
  retryDelay: z.string().optional(),
});
const statusSchema = z.looseObject({
  error: z.looseObject({
    code: z.number().int().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z.array(detailSchema).optional(),
  }),
});
export const geminiErrorSchema = z.union([statusSchema, z.tuple([statusSchema]).transform(([status]) => status)]);

export function geminiErrorDetails(body: unknown): UpstreamErrorDetails {
  const parsed = geminiErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { message, status, details = [] } = parsed.data.error;
  const out: UpstreamErrorDetails = {};
  if (message) out.message = status ? `${status}: ${message}` : message;
  // An invalid or expired key is a 400 INVALID_ARGUMENT, told apart only by its reason.
  if (details.some((d) => d.reason === 'API_KEY_INVALID')) out.errorClass = 'key_fatal';
  const delay = details.find((d) => d.retryDelay !== undefined)?.retryDelay;
  const ms = delay === undefined ? undefined : parseDurationMs(delay);
  if (ms !== undefined) out.retryAfterMs = ms;
  return out;
}
