import { GraphQLError } from 'graphql/index.js';
import type { ErrorKind } from '../core/errors.js';
import { isGatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

// GraphQL errors in one place: the codes clients switch on
// (extensions.code), and the mask that lets only our own errors through
// with their message. Anything else is a bug: logged, shown as "Unexpected error."

const CODES: Partial<Record<ErrorKind, string>> = {
  invalid_request: 'BAD_USER_INPUT',
  authentication: 'UNAUTHENTICATED',
  permission: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  rate_limited: 'RATE_LIMITED',
};

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

export function makeMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    if (error instanceof GraphQLError) {
      const original = error.originalError;
      if (!original) return error; // parse, validation, auth: already meant for the client
      if (isGatewayError(original)) {
        return new GraphQLError(original.message, {
          ...(error.nodes ? { nodes: error.nodes } : {}),
          ...(error.path ? { path: error.path } : {}),
          extensions: { code: CODES[original.kind] ?? original.kind.toUpperCase(), ...(original.param ? { field: original.param } : {}) },
        });
      }
      if (original instanceof GraphQLError) {
        return new GraphQLError(original.message, {
          ...(error.nodes ? { nodes: error.nodes } : {}),
          ...(error.path ? { path: error.path } : {}),
          extensions: original.extensions,
        });
      }
      logger.error({ err: original, path: error.path?.join('.') }, 'graphql resolver failed');
      return new GraphQLError(message, {
        ...(error.nodes ? { nodes: error.nodes } : {}),
        ...(error.path ? { path: error.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    }
    if (isGatewayError(error)) return new GraphQLError(error.message, { extensions: { code: CODES[error.kind] ?? error.kind.toUpperCase() } });
    logger.error({ err: error }, 'graphql request failed');
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
