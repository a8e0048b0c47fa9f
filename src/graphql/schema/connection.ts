import type { ArgBuilder, ObjectRef } from '@pothos/core';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from '../../core/admin/keyset-page.js';
import { builder, type BuilderTypes } from '../builder.js';

// Connections are the relay plugin's types (PageInfo, <Name>Connection,
// <Name>Edge). Paging is forward only, over the core's keyset cursors
// (core/admin/keyset-page.ts), so a connection field takes `first`/`after`
// below rather than t.connection's four arguments, whose `last`/`before`
// no list here could honour.

/** `<Name>Connection` and `<Name>Edge` for a node type; the edge's node may be null, `nodes` holds no nulls. */
export function connectionType<T>(name: string, node: ObjectRef<BuilderTypes, T>) {
  const edge = builder.edgeObject({ name: `${name}Edge`, type: node });
  // The plugin types an edge whose node may be null apart from a connection whose nodes may not;
  // the published schema has both, and a page from the core never holds an empty edge.
  return builder.connectionObject({ name: `${name}Connection`, type: node, nodeNullable: false }, edge as ObjectRef<BuilderTypes, { cursor: string; node: T }>);
}

/** A page from the core as the relay plugin's connection shape. */
export function toConnection<T>(page: Page<T>) {
  return {
    edges: page.edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.edges[0]?.cursor ?? null,
      endCursor: page.edges.at(-1)?.cursor ?? null,
    },
  };
}

/** The standard paging arguments. */
export const pageArgs = (arg: ArgBuilder<BuilderTypes>) => ({
  first: arg.int({ description: 'Page size, 1-200 (default 50).' }),
  after: arg.string({ description: 'The endCursor of the previous page.' }),
});

/** A connection field's price: what each row selects, times the rows asked for (a size out of range is refused by the resolver). */
export const pageComplexity = (args: { first?: number | null | undefined }) => ({
  field: 1,
  multiplier: Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE),
});
