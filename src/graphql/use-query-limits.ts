import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { type DocumentNode, type GraphQLError, type GraphQLSchema, validate } from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../core/logger.js';
import { logRefusal, queryTooComplex } from './errors.js';
import { introspectionOnceRule, maxRootFieldsRule } from './validation-limits.js';

// What one operation may cost, checked before anything runs, on every
// transport (HTTP, SSE, and graphql-ws, which goes through yoga's
// getEnveloped). Maintained libraries where they fit: graphql-armor bounds
// the document (tokens while parsing; depth, aliases and directives while
// validating, introspection counted like any other field), and Pothos'
// complexity plugin prices it (each field 1, a page's `first` multiplying
// what each row selects, other lists 10). The price depends on the
// variables, and yoga caches validation by document, so it is checked at
// execution instead, still before the first resolver. Root fields and
// introspection are our own rules (validation-limits.ts).

export interface QueryLimits {
  /** Lexical tokens in the document (variables not included). */
  maxTokens: number;
  /** Nesting of fields, fragments flattened, introspection included. */
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
  /** Pothos complexity: roughly the number of values the answer can hold. */
  maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxTokens: 1_000,
  // The standard introspection query (GraphQL tools, codegen) nests 15 deep.
  maxDepth: 15,
  maxAliases: 15,
  maxRootFields: 10,
  maxDirectives: 20,
  maxCost: 50_000,
};

/** armor reports "Syntax Error: <what>"; it is a limit, not a syntax error. */
const armorMessage = (error: GraphQLError) => error.message.replace(/^Syntax Error: /, '');

function armorReject(limit: string, max: number): GraphQLArmorRejectCallback[] {
  return [(context, error) => context?.reportError(queryTooComplex(limit, max, armorMessage(error)))];
}

/** The Pothos price of the operation, or the error refusing it. */
export function costError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName: string | null | undefined, context: object, maxCost: number): readonly GraphQLError[] {
  const rule = createComplexityRule({
    context,
    variableValues: variables,
    operationName: operationName ?? null,
    validate: ({ complexity }, report) => {
      if (complexity > maxCost) {
        report(queryTooComplex('cost', maxCost, `The operation would cost ${complexity}; at most ${maxCost} is allowed. Each field costs 1, a page multiplies what it selects by its size (\`first\`), other lists by 10: ask for smaller pages or fewer fields.`));
      }
    },
  });
  return validate(schema, document, [rule]);
}

export function useQueryLimits(limits: QueryLimits = DEFAULT_QUERY_LIMITS, logger?: Logger): Plugin {
  const tokens = maxTokensPlugin({
    n: limits.maxTokens,
    onReject: [
      () => {
        throw queryTooComplex('tokens', limits.maxTokens, `The document has more than ${limits.maxTokens} tokens; send a smaller query (values can go in variables).`);
      },
    ],
  });
  const rules = [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: false, flattenFragments: true, propagateOnRejection: false, onReject: armorReject('depth', limits.maxDepth) }),
    maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: armorReject('aliases', limits.maxAliases) }),
    maxDirectivesRule({ n: limits.maxDirectives, propagateOnRejection: false, onReject: armorReject('directives', limits.maxDirectives) }),
    maxRootFieldsRule(limits.maxRootFields),
    introspectionOnceRule(),
  ];
  const priced = (args: { schema: GraphQLSchema; document: DocumentNode; variableValues?: unknown; operationName?: string | null | undefined; contextValue?: unknown }) => {
    const errors = costError(args.schema, args.document, (args.variableValues ?? {}) as Record<string, unknown>, args.operationName, (args.contextValue ?? {}) as object, limits.maxCost);
    if (errors.length > 0 && logger) logRefusal(logger, errors);
    return errors;
  };
  return {
    onParse: tokens.onParse as NonNullable<Plugin['onParse']>,
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule as never);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const errors = priced(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = priced(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
