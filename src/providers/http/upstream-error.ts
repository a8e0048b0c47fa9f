import type { IncomingHttpHeaders } from 'node:http';
import { ProviderError, type ProviderErrorClass } from '../../contract/provider.js';
import { errorClassForStatus } from './classify-status.js';
import { retryAfterMs } from './retry-after.js';
import { safeUpstreamMessage } from './safe-upstream-message.js';

/** What a provider-specific error parser could learn from an error body. */
export interface UpstreamErrorDetails {
  message?: string;
  /** Overrides the class the status implies (Gemini's 400 API_KEY_INVALID). */
  errorClass?: ProviderErrorClass;
  /** From the body (Gemini RetryInfo); the headers are read too. */
  retryAfterMs?: number;
}

export interface UpstreamErrorInput {
  provider: string;
  status: number;
  headers: IncomingHttpHeaders;
  details: UpstreamErrorDetails;
  apiKey: string;
}

const summary: Record<ProviderErrorClass, string> = {
  retryable: 'is unavailable',
  key_fatal: 'rejected the upstream key',
  client: 'rejected the request',
  bad_response: 'answered unexpectedly',
};

/** One classified, client-safe ProviderError for a non-2xx upstream answer. */
export function upstreamError(input: UpstreamErrorInput): ProviderError {
  const errorClass = input.details.errorClass ?? errorClassForStatus(input.status);
  const detail = input.details.message ? `: ${safeUpstreamMessage(input.details.message, input.apiKey)}` : '';
  return new ProviderError(
    `${input.provider} ${summary[errorClass]} (${input.status})${detail}`,
    errorClass,
    input.status,
    input.details.retryAfterMs ?? retryAfterMs(input.headers),
    errorClass === 'client' ? input.status : undefined,
  );
}
