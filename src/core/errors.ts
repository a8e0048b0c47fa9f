// One catalogue of the errors a client or operator can see, with the status
// and OpenAI error type each maps to. Both doors translate GatewayError once.

export const errorCatalogue = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'authentication_error' },
  insufficient_quota: { status: 402, type: 'insufficient_quota' },
  permission: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  request_timeout: { status: 408, type: 'timeout_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  // nginx's 499: never sent (the client is gone), only recorded on the usage row.
  client_closed: { status: 499, type: 'client_closed_request' },
  internal: { status: 500, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  service_unavailable: { status: 503, type: 'service_unavailable' },
  gateway_timeout: { status: 504, type: 'timeout_error' },
  // A request that came back to this gateway through an upstream key's base URL (core/routing/upstream-hop.ts).
  loop_detected: { status: 508, type: 'loop_detected' },
} as const;

export type ErrorKind = keyof typeof errorCatalogue;

export interface GatewayErrorOptions {
  param?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = errorCatalogue[kind].status;
    this.type = errorCatalogue[kind].type;
    this.param = options.param;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
  }

  /** The seed's error body: `code` is the HTTP status number. */
  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param ?? null, code: this.status } };
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export const isGatewayError = (e: unknown): e is GatewayError => e instanceof GatewayError;
