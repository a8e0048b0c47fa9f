import { and, eq, inArray, lt, ne, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../../db/open-database.js';
import { rowsOf } from '../../../db/rows.js';
import { replicas, responses } from '../../../db/schema.js';
import { GatewayError } from '../../errors.js';
import type { ResponseInputItem } from '../../../contract/responses-request.js';
import { type LooseItem, type StoredItem, toStoredItem } from './item-resource.js';

export type { ResponseInputItem } from '../../../contract/responses-request.js';
export type { StoredItem } from './item-resource.js';

export type ResponseStatus = (typeof responses.$inferSelect)['status'];

/** The statuses of work not finished yet: a replica runs it. */
export const OPEN_STATUSES: readonly ResponseStatus[] = ['queued', 'in_progress'];

/** The response object as the API returns it (its full shape is the door's business). */
export interface ResponseBody {
  id: string;
  object: 'response';
  status: ResponseStatus;
  output?: unknown[];
  error?: { code: string; message: string } | null;
  [field: string]: unknown;
}

/** What a door saves: one response and this turn's input items. */
export interface ResponseRecord {
  id: string;
  projectId: string;
  apiKeyId: string;
  requestId: string | null;
  status: ResponseStatus;
  background: boolean;
  store: boolean;
  previousResponseId: string | null;
  body: ResponseBody;
  inputItems: readonly LooseItem[];
}

/** A stored response's row, without its input items. */
export interface StoredResponse {
  id: string;
  projectId: string;
  apiKeyId: string;
  requestId: string | null;
  status: ResponseStatus;
  background: boolean;
  replicaId: string;
  body: ResponseBody;
}

export interface DeletedResponse {
  id: string;
  object: 'response';
  deleted: true;
}

export interface InputItemsQuery {
  after?: string | undefined;
  before?: string | undefined;
  /** 1 to 100; 20 when unset. */
  limit?: number | undefined;
  /** `desc` (newest first) when unset, as the spec says. */
  order?: 'asc' | 'desc' | undefined;
  /** Accepted for the spec's sake: stored items already hold everything `include` could add. */
  include?: readonly string[] | undefined;
}

export interface ItemList {
  object: 'list';
  data: StoredItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** The same answer for an unknown id and another project's, so neither tells that the id exists. */
export const responseNotFound = (id: string, param?: string): GatewayError =>
  new GatewayError('not_found', `Response with id '${id.slice(0, 128)}' not found.`, param ? { param } : {});

/** How deep a previous_response_id chain may go: a guard against a cycle written by hand, not a product limit. */
const MAX_CHAIN = 10_000;
const PURGE_BATCH = 1_000;

/**
 * Stored responses (Responses API state) in the database every replica
 * shares, always read under the caller's project. Written by the door that
 * creates responses, read back by `GET /v1/responses/{id}` and by the next
 * turn's `previous_response_id` on any replica.
 */
export class ResponseStore {
  constructor(
    private readonly db: Db,
    /** Stamped on rows this replica saves while they are open, so recovery can fail them if it dies. */
    readonly replicaId: string,
  ) {}

  /**
   * Inserts the response, or updates it while it is still open: a finished
   * row (completed, failed, cancelled...) is never overwritten, so a late
   * write from work that was cancelled cannot undo the cancel.
   */
  async save(record: ResponseRecord): Promise<void> {
    const inputItems = record.inputItems.map(toStoredItem);
    await this.db
      .insert(responses)
      .values({
        id: record.id,
        projectId: record.projectId,
        apiKeyId: record.apiKeyId,
        requestId: record.requestId,
        status: record.status,
        background: record.background,
        store: record.store,
        previousResponseId: record.previousResponseId,
        replicaId: this.replicaId,
        body: { ...record.body, status: record.status },
        inputItems,
      })
      .onConflictDoUpdate({
        target: responses.id,
        set: { status: record.status, body: { ...record.body, status: record.status }, requestId: record.requestId, inputItems, updatedAt: sql`now()` },
        setWhere: and(eq(responses.projectId, record.projectId), inArray(responses.status, [...OPEN_STATUSES])),
      });
  }

  /** The response object, or the spec's 404 for an unknown id or another project's. */
  async get(projectId: string, id: string): Promise<ResponseBody> {
    return (await this.find(projectId, id)).body;
  }

  /** The stored row (status, background, owner replica) under the project, or the 404. */
  async find(projectId: string, id: string, param?: string): Promise<StoredResponse> {
    const [row] = await this.db
      .select({
        id: responses.id,
        projectId: responses.projectId,
        apiKeyId: responses.apiKeyId,
        requestId: responses.requestId,
        status: responses.status,
        background: responses.background,
        replicaId: responses.replicaId,
        body: responses.body,
      })
      .from(responses)
      .where(and(eq(responses.id, id), eq(responses.projectId, projectId)));
    if (!row) throw responseNotFound(id, param);
    return { ...row, body: row.body as ResponseBody };
  }

  /** The row's status, or undefined when it is gone (deleted or purged). */
  async status(id: string): Promise<ResponseStatus | undefined> {
    const [row] = await this.db.select({ status: responses.status }).from(responses).where(eq(responses.id, id));
    return row?.status;
  }

  /** An operator's read: any project's response, or undefined. */
  async findAny(id: string): Promise<(StoredResponse & { inputItems: StoredItem[]; previousResponseId: string | null; createdAt: Date; updatedAt: Date }) | undefined> {
    const [row] = await this.db.select().from(responses).where(eq(responses.id, id));
    if (!row) return undefined;
    return { ...row, body: row.body as ResponseBody, inputItems: row.inputItems as StoredItem[] };
  }

  async delete(projectId: string, id: string): Promise<DeletedResponse> {
    const gone = await this.db
      .delete(responses)
      .where(and(eq(responses.id, id), eq(responses.projectId, projectId)))
      .returning({ id: responses.id });
    if (gone.length === 0) throw responseNotFound(id);
    return { id, object: 'response', deleted: true };
  }

  /**
   * One page of a response's input items, by the spec's cursor rules: the
   * items after (or before) the item with the given id in the listing
   * order, `has_more` when the page stopped short of the end.
   */
  async inputItems(projectId: string, id: string, query: InputItemsQuery = {}): Promise<ItemList> {
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new GatewayError('invalid_request', `Invalid value for 'limit': must be an integer from 1 to 100.`, { param: 'limit' });
    }
    if (query.after !== undefined && query.before !== undefined) {
      throw new GatewayError('invalid_request', "Pass at most one of 'after' and 'before'.", { param: 'before' });
    }
    const desc = (query.order ?? 'desc') === 'desc';
    const cursorParam = query.after !== undefined ? 'after' : query.before !== undefined ? 'before' : undefined;
    const cursorId = query.after ?? query.before ?? null;
    // Positions in the stored array (1-based); `desc` lists the last item first.
    // Paging away from the cursor in listing order means a lower position for
    // `after` with desc and `before` with asc, a higher one otherwise; a page
    // before the cursor is read nearest-first and turned round below.
    const towardsLower = (cursorParam === 'after') === desc;
    const scanDesc = cursorParam === undefined ? desc : towardsLower;
    const rows = rowsOf<{ found: number; has_cursor: boolean | null; item: StoredItem | null }>(
      await this.db.execute(sql`
        WITH r AS (
          SELECT input_items FROM responses WHERE id = ${id} AND project_id = ${projectId}
        ), items AS (
          SELECT e.item, e.ord FROM r, jsonb_array_elements(r.input_items) WITH ORDINALITY AS e(item, ord)
        ), cursor AS (
          SELECT min(ord) AS ord FROM items WHERE item->>'id' = ${cursorId}
        )
        SELECT 1 AS found, (SELECT ord FROM cursor) IS NOT NULL AS has_cursor, page.item
        FROM r LEFT JOIN LATERAL (
          SELECT i.item, i.ord FROM items i, cursor c
          WHERE ${cursorId}::text IS NULL
             OR (${towardsLower}::boolean AND i.ord < c.ord)
             OR (NOT ${towardsLower}::boolean AND i.ord > c.ord)
          ORDER BY CASE WHEN ${scanDesc}::boolean THEN -i.ord ELSE i.ord END
          LIMIT ${limit + 1}
        ) page ON true`),
    );
    if (rows.length === 0) throw responseNotFound(id);
    if (cursorId !== null && !rows[0]!.has_cursor) {
      throw new GatewayError('invalid_request', `Invalid value for '${cursorParam}': no input item '${cursorId.slice(0, 128)}' in response '${id.slice(0, 128)}'.`, {
        param: cursorParam!,
      });
    }
    const items = rows.flatMap((row) => (row.item ? [row.item] : []));
    const hasMore = items.length > limit;
    const page = items.slice(0, limit);
    if (cursorParam === 'before') page.reverse();
    return { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: hasMore };
  }

  /**
   * The whole conversation before a turn, as Responses input items: every
   * ancestor's input items then its output, oldest first. One recursive
   * query walks the chain, under the project at every step, so another
   * project's id is the same 404 as an unknown one.
   */
  async conversation(projectId: string, previousResponseId: string): Promise<ResponseInputItem[]> {
    const rows = rowsOf<{ id: string; status: ResponseStatus; input_items: StoredItem[]; output: unknown[] | null }>(
      await this.db.execute(sql`
        WITH RECURSIVE chain AS (
          SELECT id, previous_response_id, 0 AS depth FROM responses WHERE id = ${previousResponseId} AND project_id = ${projectId}
          UNION ALL
          SELECT r.id, r.previous_response_id, c.depth + 1 FROM responses r JOIN chain c ON r.id = c.previous_response_id
          WHERE r.project_id = ${projectId} AND c.depth < ${MAX_CHAIN}
        )
        SELECT r.id, r.status, r.input_items, r.body->'output' AS output
        FROM chain c JOIN responses r ON r.id = c.id
        ORDER BY c.depth DESC`),
    );
    if (rows.length === 0) throw responseNotFound(previousResponseId, 'previous_response_id');
    const last = rows.at(-1)!;
    if (OPEN_STATUSES.includes(last.status)) {
      throw new GatewayError('invalid_request', `Previous response with id '${previousResponseId}' is still ${last.status}; wait until it finishes.`, {
        param: 'previous_response_id',
      });
    }
    const items: ResponseInputItem[] = [];
    for (const row of rows) {
      items.push(...(row.input_items as unknown as ResponseInputItem[]));
      if (Array.isArray(row.output)) items.push(...(row.output as ResponseInputItem[]));
    }
    return items;
  }

  /**
   * Moves a response from one of `from` to `to`, merging `body` fields into
   * the stored object. Returns the stored object after the change, or
   * undefined when the row was not in one of `from` (someone else moved it).
   */
  async markStatus(id: string, from: readonly ResponseStatus[], to: ResponseStatus, body: Partial<ResponseBody> = {}, projectId?: string): Promise<ResponseBody | undefined> {
    const patch = JSON.stringify({ ...body, status: to });
    const [row] = await this.db
      .update(responses)
      .set({ status: to, body: sql`${responses.body} || ${patch}::jsonb`, updatedAt: sql`now()` })
      .where(and(eq(responses.id, id), inArray(responses.status, [...from]), ...(projectId ? [eq(responses.projectId, projectId)] : [])))
      .returning({ body: responses.body });
    return row?.body as ResponseBody | undefined;
  }

  /** Retention: deletes finished responses created before `olderThan`, in batches; returns how many. */
  async purge(olderThan: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = this.db
        .select({ id: responses.id })
        .from(responses)
        .where(and(lt(responses.createdAt, olderThan), notInArray(responses.status, [...OPEN_STATUSES])))
        .limit(PURGE_BATCH);
      const gone = await this.db.delete(responses).where(inArray(responses.id, batch)).returning({ id: responses.id });
      deleted += gone.length;
      if (gone.length < PURGE_BATCH) return deleted;
    }
  }

  /** A dead replica's open work (never this replica's own): see failOpenResponses. */
  failOpenWork(deadBefore: Date): Promise<number> {
    return failOpenResponses(this.db, deadBefore, this.replicaId);
  }
}

/** The error a response gets when the replica running it stopped. */
export const REPLICA_LOST_ERROR = {
  code: 'server_error',
  message: 'The gateway replica running this response stopped before it finished; what it used was charged by the recovery rule.',
} as const;

/**
 * Fails the queued and in-progress responses of replicas that stopped
 * heartbeating since `deadBefore` (or stopped cleanly and left the
 * register): nobody will finish them. Their reservations are settled by
 * the same recovery pass. Returns how many responses it failed.
 */
export async function failOpenResponses(db: Db, deadBefore: Date, self?: string): Promise<number> {
  const alive = db.select({ id: replicas.id }).from(replicas).where(sql`${replicas.heartbeatAt} >= ${deadBefore.toISOString()}::timestamptz`);
  const patch = JSON.stringify({ status: 'failed', error: REPLICA_LOST_ERROR });
  const failed = await db
    .update(responses)
    .set({ status: 'failed', body: sql`${responses.body} || ${patch}::jsonb`, updatedAt: sql`now()` })
    // The status test written out, as responses_open_idx's predicate is, so the partial index serves it whatever the plan.
    .where(and(sql`${responses.status} in ('queued', 'in_progress')`, notInArray(responses.replicaId, alive), ...(self ? [ne(responses.replicaId, self)] : [])))
    .returning({ id: responses.id });
  return failed.length;
}
