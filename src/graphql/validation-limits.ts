import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql/index.js';
import type { Plugin } from 'graphql-yoga';

// Cheap guards against queries that would cost the server much more than
// they are worth: how deep a selection nests, and how many fields it selects
// in all (fragments expanded). Introspection is left out of both: GraphiQL's
// introspection query is deep by nature and harmless.

export interface QueryLimits {
  maxDepth: number;
  maxFields: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 10, maxFields: 1_000 };

interface Measure {
  depth: number;
  fields: number;
}

function measure(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  depth: number,
  visiting: Set<string>,
  budget: QueryLimits,
): Measure {
  let deepest = depth;
  let fields = 0;
  for (const selection of set.selections) {
    if (fields > budget.maxFields || deepest > budget.maxDepth) break; // already over: stop walking
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      fields += 1;
      if (selection.selectionSet) {
        const inner = measure(selection.selectionSet, fragments, depth + 1, visiting, budget);
        deepest = Math.max(deepest, inner.depth);
        fields += inner.fields;
      }
    } else {
      let inner: Measure | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = measure(selection.selectionSet, fragments, depth, visiting, budget);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !visiting.has(name)) {
          visiting.add(name);
          inner = measure(fragment.selectionSet, fragments, depth, visiting, budget);
          visiting.delete(name);
        }
      }
      if (inner) {
        deepest = Math.max(deepest, inner.depth);
        fields += inner.fields;
      }
    }
  }
  return { depth: deepest, fields };
}

/** A validation rule refusing operations nested deeper than maxDepth or selecting more than maxFields fields. */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_QUERY_LIMITS) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const { depth, fields } = measure(node.selectionSet, fragments, 1, new Set(), limits);
        const name = node.name ? `'${node.name.value}'` : 'The operation';
        if (depth > limits.maxDepth) {
          context.reportError(new GraphQLError(`${name} nests deeper than ${limits.maxDepth} levels.`, { nodes: node, extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        } else if (fields > limits.maxFields) {
          context.reportError(new GraphQLError(`${name} selects more than ${limits.maxFields} fields.`, { nodes: node, extensions: { code: 'QUERY_TOO_COMPLEX' } }));
        }
      },
    };
  };
}

/** The rule as a yoga plugin, so it runs on every transport (HTTP, SSE, graphql-ws). */
export function useQueryLimits(limits: QueryLimits = DEFAULT_QUERY_LIMITS): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(queryLimitsRule(limits));
    },
  };
}
