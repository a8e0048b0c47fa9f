import { type DocumentNode, GraphQLError, getOperationAST, visit } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from './context.js';

// Mutations check every input field against the core's text limits, which
// name the field; read arguments (ids, filters, searches) reach SQL as they
// are, and Postgres refuses NUL in text with an error the client would see
// as a 500. A NUL in any string of a query or subscription, literal or
// variable, is refused up front as bad input naming where it was. Other control characters stay allowed
// here: free text such as a model's description may hold line breaks, and
// the mutations' own checks refuse them in names and ids.

const NUL = '\u0000';

function nulInLiteral(document: DocumentNode): string | undefined {
  let where: string | undefined;
  visit(document, {
    Argument(node) {
      if (where) return false;
      let found = false;
      visit(node.value, { StringValue: (s) => void (found ||= s.value.includes(NUL)) });
      if (found) where = node.name.value;
      return false;
    },
  });
  return where;
}

function nulInValue(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulInValue(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nulInValue(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return undefined;
}

function refusal(document: DocumentNode, variables: Record<string, unknown> | undefined): GraphQLError | undefined {
  const field = nulInLiteral(document) ?? nulInValue(variables ?? {}, '');
  if (!field) return undefined;
  return new GraphQLError(`Invalid value for '${field}': must not contain NUL characters.`, {
    extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } },
  });
}

/** Refuses a read with a NUL in any string argument or variable, on every transport. */
export function useTextArguments(): Plugin<GraphQLContext> {
  const check = ({ args, setResultAndStopExecution }: { args: { document: DocumentNode; operationName?: string | null; variableValues?: unknown }; setResultAndStopExecution: (r: { errors: GraphQLError[] }) => void }) => {
    if (getOperationAST(args.document, args.operationName)?.operation === 'mutation') return;
    const error = refusal(args.document, args.variableValues as Record<string, unknown> | undefined);
    if (error) setResultAndStopExecution({ errors: [error] });
  };
  return { onExecute: check, onSubscribe: check };
}
