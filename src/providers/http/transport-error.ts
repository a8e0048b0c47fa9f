import { ProviderError } from '../../contract/provider.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';
import { HOST_REFUSED } from './upstream-agent.js';

/**
 * A failure below HTTP (refused connection, reset socket, timeout, our own
 * abort) as a retryable ProviderError. Only the error code reaches the
 * message: undici errors can carry request details we do not want to show.
 */
export function transportError(err: unknown, provider: string, signal: CancelSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal.aborted) return new ProviderError(`${provider} call aborted`, 'retryable', undefined);
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  const name = err instanceof Error ? err.name : 'Error';
  // The gateway's own host policy, not the upstream: the operator's log line names the host and rule, the client learns no address.
  if (code === HOST_REFUSED) return new ProviderError(`${provider}: the gateway's upstream host policy refused the connection (${HOST_REFUSED})`, 'retryable', undefined);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ProviderError(`${provider} timed out (${code})`, 'retryable', undefined);
  }
  return new ProviderError(`could not reach ${provider} (${code ?? name})`, 'retryable', undefined);
}
