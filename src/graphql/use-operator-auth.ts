import { type DocumentNode, getOperationAST, Kind, parse, type SelectionSetNode } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { GraphQLContext } from './context.js';
import { forbidden, unauthenticated } from './errors.js';

// Who may do what on /graphql: an operator token (admin or viewer) may read,
// only admin may change; project keys and anonymous callers get nothing,
// except that outside production anyone may introspect the schema (so
// GraphiQL and codegen work on a developer's machine).

export type OperatorLookup = (request: Request) => Promise<{ operator: Operator | null; presented: 'none' | 'project-key' | 'token' }>;

export interface OperatorAuthOptions {
  production: boolean;
  lookup: OperatorLookup;
}

const NO_TOKEN = 'An operator token is required: send "Authorization: Bearer <admin token>".';
const BAD_TOKEN = 'The operator token is not valid (unknown or revoked).';
const PROJECT_KEY = 'Project API keys cannot use the admin API; send an operator token.';

/** True when every top-level field of the operation is __schema, __type or __typename. */
export function isIntrospectionOnly(document: DocumentNode, operationName?: string | null): boolean {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== 'query') return false;
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const onlyMeta = (set: SelectionSetNode, seen: Set<string>): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return s.name.value.startsWith('__');
      if (s.kind === Kind.INLINE_FRAGMENT) return onlyMeta(s.selectionSet, seen);
      const fragment = fragments.get(s.name.value);
      if (!fragment || seen.has(s.name.value)) return !!fragment;
      return onlyMeta(fragment.selectionSet, new Set([...seen, s.name.value]));
    });
  return onlyMeta(operation.selectionSet, new Set());
}

function refusal(presented: 'none' | 'project-key' | 'token') {
  if (presented === 'project-key') return forbidden(PROJECT_KEY);
  return unauthenticated(presented === 'none' ? NO_TOKEN : BAD_TOKEN);
}

function decide(operator: Operator | null, document: DocumentNode, operationName: string | null | undefined, production: boolean) {
  const operation = getOperationAST(document, operationName);
  if (!operator) {
    if (!production && isIntrospectionOnly(document, operationName)) return undefined;
    return unauthenticated(NO_TOKEN);
  }
  if (operation?.operation === 'mutation' && operator.role !== 'admin') {
    return forbidden(`The operator token "${operator.name}" has the viewer role; changes need an admin token.`);
  }
  return undefined;
}

export function useOperatorAuth(options: OperatorAuthOptions): Plugin<GraphQLContext> {
  return {
    // Over HTTP the token is checked before the query is even validated, so
    // callers without one learn nothing about the schema from error messages.
    async onParams({ params, request, setResult }) {
      const { operator, presented } = await options.lookup(request);
      if (operator) return;
      if (!options.production && typeof params.query === 'string') {
        try {
          if (isIntrospectionOnly(parse(params.query), params.operationName)) return;
        } catch {
          // A syntax error: refused below like any other anonymous request.
        }
      }
      setResult({ errors: [refusal(presented)] });
    },
    // Every transport (HTTP, SSE, graphql-ws) ends here: the role check.
    onExecute({ args, setResultAndStopExecution }) {
      const error = decide(args.contextValue.operator, args.document, args.operationName, options.production);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = decide(args.contextValue.operator, args.document, args.operationName, options.production);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
