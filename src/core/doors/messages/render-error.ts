import type { GatewayError } from '../../errors.js';

/**
 * The Messages API's error types by the gateway's error kinds (Anthropic's
 * "Errors" page). A refused balance is 402 `billing_error`, the type
 * Anthropic documents for billing problems (the SDK's PaymentRequiredError);
 * every upstream failing for load is Anthropic's 529 `overloaded_error`,
 * which Claude Code and the SDKs retry.
 */
const BY_KIND: Record<GatewayError['kind'], { status?: number; type: string }> = {
  invalid_request: { type: 'invalid_request_error' },
  authentication: { type: 'authentication_error' },
  insufficient_quota: { type: 'billing_error' },
  permission: { type: 'permission_error' },
  not_found: { type: 'not_found_error' },
  request_timeout: { type: 'timeout_error' },
  payload_too_large: { type: 'request_too_large' },
  rate_limited: { type: 'rate_limit_error' },
  client_closed: { type: 'api_error' },
  internal: { type: 'api_error' },
  upstream_error: { type: 'api_error' },
  service_unavailable: { status: 529, type: 'overloaded_error' },
  gateway_timeout: { type: 'timeout_error' },
  loop_detected: { type: 'api_error' },
};

export interface MessagesErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** A GatewayError in Anthropic's shape: `{"type":"error","error":{"type","message"}}` and its status. */
export function messagesError(error: GatewayError): { status: number; body: MessagesErrorBody } {
  const mapped = BY_KIND[error.kind];
  return { status: mapped.status ?? error.status, body: { type: 'error', error: { type: mapped.type, message: error.message } } };
}
