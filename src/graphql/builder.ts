import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import type { GraphQLContext } from './context.js';

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
}

// The complexity plugin only prices fields here (`complexity` on a field;
// 1 by default, lists multiply what they select by 10): the price is checked
// before execution by use-query-limits.ts, not inside root resolvers.
export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ComplexityPlugin],
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10, disabled: true },
});

export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
