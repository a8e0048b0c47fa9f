import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { GraphQLContext } from './context.js';
import { operatorRequired, viewerCannotChange } from './errors.js';

// Configuration only: the context type, the scalars' TypeScript shapes and
// the defaults. Types and fields live in schema/<domain>.ts.
//
// Files here import graphql-js as 'graphql/index.js', the file Node itself
// loads for 'graphql' (and so Pothos and yoga get). A bare 'graphql' would
// resolve to index.mjs under Vite/vitest: a second copy of graphql-js whose
// instanceof checks fail against the first ("from another module or realm").

export interface SchemaTypes {
  Context: GraphQLContext;
  Scalars: {
    /** ISO 8601 date-time, always UTC on output. */
    DateTime: { Input: Date; Output: Date | string };
    /** Exact decimal as a string ("12.5"): money in the deployment currency, prices per 1M tokens. */
    Decimal: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultInputFieldRequiredness: false;
  DefaultNodeNullability: true;
  DefaultEdgesNullability: { list: true; items: false };
  /** operator: any verified operator token (reads); admin: an admin-role one (changes). */
  AuthScopes: { operator: boolean; admin: boolean };
  AuthContexts: {
    operator: GraphQLContext & { operator: Operator };
    admin: GraphQLContext & { operator: Operator & { role: 'admin' } };
  };
}

/** Who is calling was settled before execution (use-operator-auth.ts); the scopes say what that role may do. */
const scopeAuth = {
  authorizeOnSubscribe: true,
  authScopes: (ctx: GraphQLContext) => ({ operator: ctx.operator !== null, admin: ctx.operator?.role === 'admin' }),
  unauthorizedError: (_parent: unknown, ctx: GraphQLContext) => (ctx.operator ? viewerCannotChange(ctx.operator.name) : operatorRequired()),
};

// Relay's connection types with every field nullable, as the schema had
// them before the plugin; a page's size is priced once, on the field that
// returns the connection (schema/connection.ts), so edges and nodes cost 1.
const relay = {
  cursorType: 'String',
  clientMutationId: 'omit',
  pageInfoTypeOptions: { description: 'Where a page sits in its list; pass endCursor as `after` for the next page.' },
  pageInfoFieldOptions: { nullable: true },
  hasNextPageFieldOptions: { nullable: true },
  hasPreviousPageFieldOptions: { nullable: true },
  // The plugin's types allow only a non-null cursor; it honours the option all the same.
  cursorFieldOptions: { nullable: true as false },
  edgesFieldOptions: { nullable: { list: true, items: false }, complexity: { field: 1, multiplier: 1 } },
  nodesOnConnection: { description: 'The nodes of `edges`, for clients that need no cursors.', complexity: { field: 1, multiplier: 1 } },
} as const;

// The complexity plugin only prices fields here (`complexity` on a field;
// 1 by default, lists multiply what they select by 10): the price is checked
// before execution by use-query-limits.ts, not inside root resolvers.
export const builder = new SchemaBuilder<SchemaTypes>({
  // Scope auth first, so no other plugin's wrapper runs before the check.
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ComplexityPlugin],
  scopeAuth,
  relay,
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10, disabled: true },
});

export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
