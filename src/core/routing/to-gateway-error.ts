import { isDatabaseUnavailable } from '../../db/database-unavailable.js';
import { type ErrorKind, GatewayError } from '../errors.js';
import { ProviderError } from '../../contract/provider.js';
import { ClientGoneError, DeadlineError, NoUpstreamError } from './routing-errors.js';


const kindByStatus: Record<number, ErrorKind> = {
  400: 'invalid_request',
  401: 'authentication',
  402: 'insufficient_quota',
  403: 'permission',
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  422: 'invalid_request',
  429: 'rate_limited',
  500: 'internal',
  502: 'upstream_error',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

export function errorKindForStatus(status: number): ErrorKind {
  return kindByStatus[status] ?? (status >= 500 ? 'upstream_error' : 'invalid_request');
}

/** What the client sees for a failure from the upstream side, with nothing internal in it. */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof DeadlineError) {
    return e.requestTimeout
      ? new GatewayError('request_timeout', 'The request timed out: the upstream did not answer within the `timeout` you set.')
      : new GatewayError('gateway_timeout', "The upstream did not answer within the gateway's deadline.");
  }
  if (e instanceof ClientGoneError) return new GatewayError('client_closed', 'The client closed the connection before the answer was complete.');
  if (e instanceof NoUpstreamError) {
    const retryAfter = e.lastError?.retryAfterMs ? Math.ceil(e.lastError.retryAfterMs / 1000) : undefined;
    const detail = e.lastError ? ` Last error: ${e.lastError.message}` : '';
    return new GatewayError('service_unavailable', `${e.message}${detail}`, retryAfter ? { retryAfter } : {});
  }
  if (e instanceof ProviderError) {
    const status = e.clientStatus ?? (e.errorClass === 'bad_response' ? 502 : 503);
    const retryAfter = e.retryAfterMs ? Math.ceil(e.retryAfterMs / 1000) : undefined;
    return new GatewayError(errorKindForStatus(status), e.message, retryAfter ? { retryAfter } : {});
  }
  return databaseUnavailable(e) ?? new GatewayError('internal', 'The gateway had an internal error while processing the request.', { cause: e });
}

/**
 * A database that cannot be reached is a 503 the client may retry, not a
 * 500: the driver reconnects by itself once the server is back.
 */
export function databaseUnavailable(e: unknown): GatewayError | undefined {
  if (!isDatabaseUnavailable(e)) return undefined;
  return new GatewayError('service_unavailable', 'The gateway cannot reach its database right now; retry shortly.', { retryAfter: 1, cause: e });
}
