import { z } from 'zod';
import type { UpstreamErrorDetails } from '../http/upstream-error.js';
import { ProviderError, type ProviderErrorClass } from '../../contract/provider.js';
import { safeUpstreamMessage } from '../http/safe-upstream-message.js';

// `{"type":"error","error":{"type","message"},"request_id"}`, for a failed
// call and for an `error` event mid-stream alike.
export const anthropicErrorSchema = z.looseObject({
  type: z.literal('error').optional(),
  error: z.looseObject({ type: z.string(), message: z.string().nullish() }),
});

export function anthropicErrorDetails(body: unknown): UpstreamErrorDetails {
  const parsed = anthropicErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { type, message } = parsed.data.error;
  return { message: message ? `${type}: ${message}` : type };
}

// The status each error type comes with (docs: "Errors").
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function classForType(type: string): { errorClass: ProviderErrorClass; status: number | undefined } {
  const status = STATUS_BY_TYPE[type];
  if (status === undefined || status === 429 || status >= 500) return { errorClass: 'retryable', status };
  if (status === 401 || status === 402 || status === 403) return { errorClass: 'key_fatal', status };
  return { errorClass: 'client', status };
}

/** An `error` event inside a 200 stream, classified by its error type. */
export function anthropicStreamError(body: unknown): ProviderError {
  const parsed = anthropicErrorSchema.safeParse(body);
  const type = parsed.success ? parsed.data.error.type : 'api_error';
  const message = parsed.success ? (parsed.data.error.message ?? '') : '';
  const { errorClass, status } = classForType(type);
  return new ProviderError(
    `anthropic failed mid-stream (${type})${message ? `: ${safeUpstreamMessage(message, '')}` : ''}`,
    errorClass,
    status,
    undefined,
    errorClass === 'client' ? status : undefined,
  );
}
