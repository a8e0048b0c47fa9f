import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, isGatewayError } from '../core/errors.js';
import { databaseUnavailable } from '../core/routing/to-gateway-error.js';
import { DRAIN_LIMIT_FACTOR, drainOversizedBody } from './drain-oversized-body.js';

const tooLarge = (bodyLimit: number | undefined) =>
  new GatewayError('payload_too_large', `The request body is larger than ${bodyLimit ? `the ${bodyLimit} bytes ` : 'what '}the gateway accepts (BODY_LIMIT_BYTES).`);

/** Fastify's own errors (body parsing, size) in the catalogue's terms. */
function fromFastify(error: FastifyError, bodyLimit: number | undefined): GatewayError | undefined {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new GatewayError('invalid_request', 'The URL is not valid: a path segment is not well-formed percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new GatewayError('invalid_request', 'A path parameter of the URL is too long.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge(bodyLimit);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_request', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('invalid_request', 'Unsupported Content-Type: send application/json.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError('invalid_request', `We could not parse the JSON body of your request: ${error.message}`);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new GatewayError('invalid_request', `We could not parse the JSON body of your request: ${error.message}`);
  }
  if (error.statusCode === 413) return tooLarge(bodyLimit);
  return undefined;
}

export function toErrorReply(error: unknown, bodyLimit?: number): GatewayError {
  if (isGatewayError(error)) return error;
  const known = fromFastify(error as FastifyError, bodyLimit);
  return known ?? databaseUnavailable(error) ?? new GatewayError('internal', 'The gateway had an internal error while processing the request.', { cause: error });
}

/**
 * Fastify's router answers a malformed or over-long path itself, in its own
 * shape, unless given this (the `frameworkErrors` option): the OpenAI error body.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const gatewayError = toErrorReply(error);
  void reply.status(gatewayError.status).send(gatewayError.toBody());
}

/** How a door shows an error: its status (Anthropic's 529, say) and body. */
export type ErrorRenderer = (error: GatewayError) => { status: number; body: unknown };

const openAiError: ErrorRenderer = (error) => ({ status: error.status, body: error.toBody() });

/**
 * One error handler: the door's error body (OpenAI's unless a door scope
 * installs its own renderer), the message only when it is safe (below 500
 * or ours). A door registered in its own Fastify scope calls this with its
 * renderer; everything else (logging, Retry-After, draining) stays the same.
 */
export function installErrorHandlers(app: FastifyInstance, render: ErrorRenderer = openAiError): void {
  const bodyLimit = app.initialConfig.bodyLimit;
  app.setErrorHandler((error, request, reply) => {
    const gatewayError = toErrorReply(error, bodyLimit);
    if (gatewayError.status >= 500 && gatewayError.kind === 'internal') {
      request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    }
    if (gatewayError.retryAfter !== undefined) reply.header('retry-after', String(gatewayError.retryAfter));
    if (gatewayError.headers) reply.headers(gatewayError.headers);
    const { status, body } = render(gatewayError);
    if (gatewayError.kind === 'payload_too_large' && !request.raw.complete) {
      // Fastify has already asked for `connection: close`: the connection ends after the answer either way.
      return drainOversizedBody(request.raw, DRAIN_LIMIT_FACTOR * (bodyLimit ?? 0)).then(() => reply.status(status).send(body));
    }
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new GatewayError('not_found', `Unknown route: ${request.method} ${request.url.split('?')[0]}`);
    const { status, body } = render(error);
    return reply.status(status).send(body);
  });
}
