import { type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { GatewayError } from '../errors.js';

// Cursor pagination over (created_at DESC, id DESC), newest first. The cursor
// carries the timestamp as Postgres prints it (microseconds), not a JS Date
// (milliseconds), so rows created within the same millisecond are neither
// skipped nor repeated between pages.

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
}

export interface PageEdge<T> {
  cursor: string;
  node: T;
}

export interface Page<T> {
  edges: PageEdge<T>[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

interface Cursor {
  at: string;
  id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && CURSOR_AT.test(value[0]) && typeof value[1] === 'string') {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new GatewayError('invalid_request', 'Invalid cursor: pass an endCursor from an earlier page.', { param: 'after' });
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new GatewayError('invalid_request', `first must be between 1 and ${MAX_PAGE_SIZE}.`, { param: 'first' });
  }
  return first;
}

/** The row's created_at in UTC with microseconds, for cursors. */
export const cursorAt = (createdAt: AnyPgColumn): SQL<string> =>
  sql<string>`to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface KeysetColumns {
  createdAt: AnyPgColumn;
  id: AnyPgColumn;
}

/**
 * Runs one page query: `fetch` gets the condition for rows after the cursor
 * (undefined on the first page) and a limit one larger than the page, so
 * whether a next page exists costs no extra query.
 */
export async function keysetPage<Row extends { id: string; cursorAt: string }>(
  args: PageArgs,
  columns: KeysetColumns,
  fetch: (afterCursor: SQL | undefined, limit: number) => Promise<Row[]>,
): Promise<Page<Omit<Row, 'cursorAt'>>> {
  const size = pageSize(args.first);
  const cursor = args.after ? decodeCursor(args.after) : undefined;
  const condition = cursor ? sql`(${columns.createdAt}, ${columns.id}) < (${cursor.at}::timestamptz, ${cursor.id})` : undefined;
  const rows = await fetch(condition, size + 1);
  return {
    edges: rows.slice(0, size).map(({ cursorAt: at, ...node }) => ({ cursor: encodeCursor(at, node.id), node })),
    hasNextPage: rows.length > size,
    hasPreviousPage: cursor !== undefined,
  };
}
