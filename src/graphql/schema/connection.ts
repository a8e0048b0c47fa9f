import type { ArgBuilder, ObjectRef } from '@pothos/core';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from '../../core/admin/keyset-page.js';
import { builder, type BuilderTypes } from '../builder.js';

// Relay-style connections, written out by hand: forward pagination with
// `first`/`after` over keyset cursors (see core/admin/keyset-page.ts).

export interface ConnectionShape<T> extends Page<T> {
  /** Counted only when the field is asked for. */
  totalCount?: () => Promise<number>;
}

interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

const PageInfo = builder.objectRef<PageInfoShape>('PageInfo').implement({
  description: 'Where a page sits in its list; pass endCursor as `after` for the next page.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/** `<Name>Connection` and `<Name>Edge` types for a node type. */
export function connectionType<T>(name: string, node: ObjectRef<BuilderTypes, T>): ObjectRef<BuilderTypes, ConnectionShape<T>> {
  const Edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // The cast only bridges Pothos's resolver-result type over a generic T.
      node: t.field({ type: node, resolve: (edge) => edge.node as never }),
    }),
  });
  return builder.objectRef<ConnectionShape<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      // The page's size is counted once, on the field that returns the connection (pageComplexity).
      edges: t.field({ type: [Edge], complexity: { field: 1, multiplier: 1 }, resolve: (c) => c.edges }),
      nodes: t.field({
        type: [node],
        description: 'The nodes of `edges`, for clients that need no cursors.',
        complexity: { field: 1, multiplier: 1 },
        resolve: (c) => c.edges.map((e) => e.node) as never,
      }),
      pageInfo: t.field({
        type: PageInfo,
        resolve: (c) => ({
          hasNextPage: c.hasNextPage,
          hasPreviousPage: c.hasPreviousPage,
          startCursor: c.edges[0]?.cursor ?? null,
          endCursor: c.edges.at(-1)?.cursor ?? null,
        }),
      }),
    }),
  });
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
