import type { ProviderErrorClass } from '../../contract/provider.js';

/**
 * What a failed upstream status means for the gateway. 402 is a key problem
 * (the upstream account has no balance), not the client's fault, so another
 * key is tried instead of showing the client a payment error about ours.
 */
export function errorClassForStatus(status: number): ProviderErrorClass {
  if (status === 401 || status === 402 || status === 403) return 'key_fatal';
  if (status === 408 || status === 409 || status === 429 || status >= 500) return 'retryable';
  if (status >= 400) return 'client';
  return 'bad_response';
}
