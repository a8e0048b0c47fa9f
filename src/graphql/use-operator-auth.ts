import { type DocumentNode, getOperationAST } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { Logger } from '../core/logger.js';
import type { GraphQLContext } from './context.js';
import { forbidden, logRefusal, operatorRequired, unauthenticated, viewerCannotChange } from './errors.js';

// Who may call /graphql: an operator token (admin or viewer) may read,
// only admin may change; project keys and anonymous callers get nothing,
// introspection included, whatever NODE_ENV says (the committed
// schema/schema.graphql is there for tools).
//
// The schema states the same rule as scopes on its root types (builder.ts,
// schema/root.ts), checked field by field inside execution. This gate
// refuses the whole operation before anything runs, so a viewer's mutation
// is answered with the one error and no data, as one refusal logged.

export type OperatorLookup = (request: Request) => Promise<{ operator: Operator | null; presented: 'none' | 'project-key' | 'token' }>;

export interface OperatorAuthOptions {
  lookup: OperatorLookup;
  logger: Logger;
}

const BAD_TOKEN = 'The operator token is not valid (unknown or revoked).';
const PROJECT_KEY = 'Project API keys cannot use the admin API; send an operator token.';

function refusal(presented: 'none' | 'project-key' | 'token') {
  if (presented === 'project-key') return forbidden(PROJECT_KEY);
  return presented === 'none' ? operatorRequired() : unauthenticated(BAD_TOKEN);
}

function decide(operator: Operator | null, document: DocumentNode, operationName: string | null | undefined) {
  if (!operator) return operatorRequired();
  if (getOperationAST(document, operationName)?.operation === 'mutation' && operator.role !== 'admin') return viewerCannotChange(operator.name);
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
