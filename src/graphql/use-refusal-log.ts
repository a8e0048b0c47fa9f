import { GraphQLError } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../core/logger.js';
import { logRefusal } from './errors.js';

/**
 * Logs documents refused before execution (syntax errors, unknown fields,
 * limits) as the client's mistakes: one info or warn line, no stack. On
 * every transport: graphql-ws parses and validates through yoga too.
 */
export function useRefusalLog(logger: Logger): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof GraphQLError) logRefusal(logger, [result], 'GRAPHQL_PARSE_FAILED');
      };
    },
    onValidate() {
      return ({ valid, result }) => {
        if (!valid) logRefusal(logger, result.filter((e): e is GraphQLError => e instanceof GraphQLError));
      };
    },
  };
}
