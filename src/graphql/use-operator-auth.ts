import { type DocumentNode, getOperationAST } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { Logger } from '../core/logger.js';
import type { GraphQLContext } from './context.js';
import { forbidden, logRefusal, unauthenticated } from './errors.js';

// Who may do what on /graphql: an operator token (admin or viewer) may read,
// only admin may change; project keys and anonymous callers get nothing,
// introspection included, whatever NODE_ENV says (the committed
// schema/schema.graphql is there for tools).

export type OperatorLookup = (request: Request) => Promise<{ operator: Operator | null; presented: 'none' | 'project-key' | 'token' }>;

export interface OperatorAuthOptions {
  lookup: OperatorLookup;
  logger: Logger;
}

const NO_TOKEN = 'An operator token is required: send "Authorization: Bearer <admin token>".';
const BAD_TOKEN = 'The operator token is not valid (unknown or revoked).';
const PROJECT_KEY = 'Project API keys cannot use the admin API; send an operator token.';

function refusal(presented: 'none' | 'project-key' | 'token') {
  if (presented === 'project-key') return forbidden(PROJECT_KEY);
  return unauthenticated(presented === 'none' ? NO_TOKEN : BAD_TOKEN);
}

function decide(operator: Operator | null, document: DocumentNode, operationName: string | null | undefined) {
  if (!operator) return unauthenticated(NO_TOKEN);
  if (getOperationAST(document, operationName)?.operation === 'mutation' && operator.role !== 'admin') {
    return forbidden(`The operator token "${operator.name}" has the viewer role; changes need an admin token.`);
  }
  return undefined;
}

export function useOperatorAuth(options: OperatorAuthOptions): Plugin<GraphQLContext> {
  const refuse = (error: ReturnType<typeof refusal>) => {
    logRefusal(options.logger, [error]);
    return { errors: [error] };
  };
  return {
    // Over HTTP the token is checked before the query is even parsed, so
    // callers without one cost nothing and learn nothing about the schema.
    async onParams({ request, setResult }) {
      const { operator, presented } = await options.lookup(request);
      if (!operator) setResult(refuse(refusal(presented)));
    },
    // Every transport (HTTP, SSE, graphql-ws) ends here: the role check.
    onExecute({ args, setResultAndStopExecution }) {
      const error = decide(args.contextValue.operator, args.document, args.operationName);
      if (error) setResultAndStopExecution(refuse(error));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = decide(args.contextValue.operator, args.document, args.operationName);
      if (error) setResultAndStopExecution(refuse(error));
    },
  };
}
