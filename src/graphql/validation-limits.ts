import { type ASTVisitor, type FieldNode, Kind, type SelectionSetNode, type ValidationContext } from 'graphql/index.js';
import { queryTooComplex } from './errors.js';

// The two limits graphql-armor and Pothos' complexity plugin do not offer
// (see use-query-limits.ts for the rest).
//
// Root fields: armor counts aliases, not the fields an operation starts
// from; each root field is its own query against the database.
//
// Introspection: Pothos' cost counts `__schema` and `__type` as one field
// and does not look inside. Their answer is bounded by the schema itself
// (the whole of it, at the depth limit, is a few hundred KB) unless the
// query repeats it, which takes aliases. So an operation gets one
// introspection field and no aliases inside it: the standard introspection
// query passes, the 1,000-alias one does not.

/** The fields at the root of a selection set, fragments expanded (each counted once however often it is spread). */
function rootFields(set: SelectionSetNode, context: ValidationContext, seen: Set<string>): FieldNode[] {
  const out: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) out.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(selection.selectionSet, context, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = context.getFragment(selection.name.value);
      if (fragment) out.push(...rootFields(fragment.selectionSet, context, seen));
    }
  }
  return out;
}

function hasAlias(set: SelectionSetNode, context: ValidationContext, seen: Set<string>): boolean {
  return set.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return !!selection.alias || (!!selection.selectionSet && hasAlias(selection.selectionSet, context, seen));
    if (selection.kind === Kind.INLINE_FRAGMENT) return hasAlias(selection.selectionSet, context, seen);
    if (seen.has(selection.name.value)) return false;
    seen.add(selection.name.value);
    const fragment = context.getFragment(selection.name.value);
    return !!fragment && hasAlias(fragment.selectionSet, context, seen);
  });
}

const INTROSPECTION = new Set(['__schema', '__type']);

/** Refuses an operation with more than `max` root fields (`__typename` is free). */
export function maxRootFieldsRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const count = rootFields(node.selectionSet, context, new Set()).filter((f) => f.name.value !== '__typename').length;
      if (count > max) context.reportError(queryTooComplex('rootFields', max, `The operation selects ${count} root fields; at most ${max} are allowed.`));
    },
  });
}

/** Refuses a second `__schema`/`__type` in one operation, and aliases inside one. */
export function introspectionOnceRule() {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const meta = rootFields(node.selectionSet, context, new Set()).filter((f) => INTROSPECTION.has(f.name.value));
      if (meta.length > 1) {
        context.reportError(queryTooComplex('introspection', 1, `The operation introspects ${meta.length} times; one __schema or __type per operation is allowed.`));
      } else if (meta.some((f) => !!f.alias || (!!f.selectionSet && hasAlias(f.selectionSet, context, new Set())))) {
        context.reportError(queryTooComplex('introspection', 1, 'Aliases are not allowed in an introspection query.'));
      }
    },
  });
}
