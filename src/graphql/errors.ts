import { GraphQLError } from 'graphql/index.js';
import type { ErrorKind } from '../core/errors.js';
import { isGatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

// GraphQL errors in one place: the codes clients switch on
// (extensions.code), the mask that lets only our own errors through with
// their message, and how each is logged. A client's mistake (bad input, a
// refused token, a query over a limit) is an info or warn line without a
// stack: an operator's typo is not an incident. Anything else is a bug:
// logged at error with its stack, shown as "Unexpected error."

const CODES: Partial<Record<ErrorKind, string>> = {
  invalid_request: 'BAD_USER_INPUT',
  authentication: 'UNAUTHENTICATED',
  permission: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  rate_limited: 'RATE_LIMITED',
};

/** The code of an operation refused for its size or cost, before anything ran. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

/** No operator token reached execution: what an anonymous caller hears. */
export const operatorRequired = (): GraphQLError => unauthenticated('An operator token is required: send "Authorization: Bearer <admin token>".');

/** A viewer asked for a change: what the Mutation type's admin scope answers. */
export const viewerCannotChange = (name: string): GraphQLError => forbidden(`The operator token "${name}" has the viewer role; changes need an admin token.`);

/** `limit` names the limit that refused the operation (tokens, depth, aliases, rootFields, cost...). */
export function queryTooComplex(limit: string, max: number, message: string): GraphQLError {
  // http.spec: the same status rules as any other validation error (400, or 200 for plain application/json).
  return new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX, limit, max, http: { spec: true, status: 400 } } });
}

/** One line for a request refused for the client's own mistake: warn for limits (probing or a runaway tool), info otherwise. */
export function logRefusal(logger: Logger, errors: readonly GraphQLError[], fallbackCode = 'GRAPHQL_VALIDATION_FAILED'): void {
  if (errors.length === 0) return;
  const summary = errors.slice(0, 5).map((e) => ({
    code: (e.extensions?.['code'] as string | undefined) ?? fallbackCode,
    message: e.message.length > 300 ? `${e.message.slice(0, 300)}…` : e.message,
    ...(e.path ? { path: e.path.join('.') } : {}),
  }));
  const level = summary.some((e) => e.code === QUERY_TOO_COMPLEX) ? 'warn' : 'info';
  logger[level]({ errors: summary }, 'graphql request refused');
}

export function makeMaskError(logger: Logger) {
  return (error: unknown, message: string): Error => {
    if (error instanceof GraphQLError) {
      const original = error.originalError;
      if (!original) return error; // parse, validation, auth: already meant for the client (and logged where refused)
      const where = {
        ...(error.nodes ? { nodes: error.nodes } : {}),
        ...(error.path ? { path: error.path } : {}),
      };
      if (isGatewayError(original) && original.status < 500) {
        const masked = new GraphQLError(original.message, {
          ...where,
          extensions: { code: CODES[original.kind] ?? original.kind.toUpperCase(), ...(original.param ? { field: original.param } : {}) },
        });
        logRefusal(logger, [masked]);
        return masked;
      }
      if (isGatewayError(original)) {
        // Ours or a part we stand on (database, upstream): worth a stack.
        logger.error({ err: original, path: error.path?.join('.') }, 'graphql resolver failed');
        return new GraphQLError(original.message, { ...where, extensions: { code: CODES[original.kind] ?? original.kind.toUpperCase() } });
      }
      if (original instanceof GraphQLError) {
        const masked = new GraphQLError(original.message, { ...where, extensions: original.extensions });
        logRefusal(logger, [masked]);
        return masked;
      }
      logger.error({ err: original, path: error.path?.join('.') }, 'graphql resolver failed');
      return new GraphQLError(message, { ...where, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
    if (isGatewayError(error)) {
      const masked = new GraphQLError(error.message, { extensions: { code: CODES[error.kind] ?? error.kind.toUpperCase() } });
      if (error.status < 500) logRefusal(logger, [masked]);
      else logger.error({ err: error }, 'graphql request failed');
      return masked;
    }
    logger.error({ err: error }, 'graphql request failed');
    return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
