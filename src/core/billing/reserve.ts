import type { Endpoint } from '../../contract/endpoints.js';
import { and, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/open-database.js';
import { preparedSql } from '../../db/prepared-sql.js';
import { apiKeys, projects, usageRecords } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import { formatMoney, type PriceText, type Prices } from '../money.js';

export interface Reservation {
  requestId: string;
  projectId: string;
  apiKeyId: string;
  endpoint: Endpoint;
  modelId: string;
  /** Worst-case cost in pico-units. */
  cost: bigint;
  promptTokens: number;
  prices: Prices;
  /** The prices in force, recorded on the row so old charges stay auditable. */
  priceText: PriceText;
  stream: boolean;
  test: boolean;
  replicaId: string;
}

// Monthly limits restart at the first of the month without a job: the
// period columns roll over lazily in the same statements that use them.
const periodSpentNow = sql`(CASE WHEN ${apiKeys.spendLimitPeriod} = 'monthly' AND ${apiKeys.periodStart} < date_trunc('month', now()) THEN 0 ELSE ${apiKeys.periodSpent} END)`;

/**
 * Holds the worst-case cost against the project's balance and the key's spend
 * limit and writes the request's `reserved` usage row, atomically: either all
 * three happen or none does. Concurrent reservations can never together
 * exceed the balance, because each one re-checks the row it locks.
 */
export async function reserve(db: Db, r: Reservation): Promise<void> {
  const cost = formatMoney(r.cost);
  await db.transaction(async (tx) => {
    const project = await tx
      .update(projects)
      .set({ reserved: sql`${projects.reserved} + ${cost}::numeric` })
      .where(and(eq(projects.id, r.projectId), sql`${projects.balance} - ${projects.reserved} >= ${cost}::numeric`))
      .returning({ id: projects.id });
    if (project.length === 0) {
      throw new GatewayError(
        'insufficient_quota',
        `Insufficient balance: this request may cost up to ${cost} and the project's available balance cannot cover it. Top up the balance or lower max_tokens.`,
      );
    }
    const key = await tx
      .update(apiKeys)
      .set({ reserved: sql`${apiKeys.reserved} + ${cost}::numeric` })
      .where(
        and(
          eq(apiKeys.id, r.apiKeyId),
          sql`(${apiKeys.spendLimit} IS NULL OR ${periodSpentNow} + ${apiKeys.reserved} + ${cost}::numeric <= ${apiKeys.spendLimit})`,
        ),
      )
      .returning({ id: apiKeys.id });
    if (key.length === 0) {
      throw new GatewayError('insufficient_quota', "This request would exceed the API key's spend limit.");
    }
    await insertReservation(tx, r, null);
  });
}

const ph = (name: string) => sql.placeholder(name);

function prepareInsert(db: DbOrTx) {
  return db
    .insert(usageRecords)
    .values({
      id: ph('id'),
      projectId: ph('projectId'),
      apiKeyId: ph('apiKeyId'),
      endpoint: ph('endpoint'),
      modelId: ph('modelId'),
      status: 'reserved',
      promptTokens: ph('promptTokens'),
      reservedCost: ph('reservedCost'),
      inputPrice: ph('inputPrice'),
      outputPrice: ph('outputPrice'),
      cachedInputPrice: ph('cachedInputPrice'),
      cacheWritePrice: ph('cacheWritePrice'),
      cacheWrite1hPrice: ph('cacheWrite1hPrice'),
      stream: ph('stream'),
      test: ph('test'),
      replicaId: ph('replicaId'),
      leaseId: ph('leaseId'),
    })
    .prepare('insert_reservation');
}

// Built once per database handle: the hot path only binds values.
const prepared = new WeakMap<object, ReturnType<typeof prepareInsert>>();

/** The request's `reserved` usage row: the one write a client waits for on the lease path. */
export async function insertReservation(db: DbOrTx, r: Reservation, leaseId: string | null): Promise<void> {
  let insert = prepared.get(db);
  if (!insert) prepared.set(db, (insert = prepareInsert(db)));
  await insert.execute({
    id: r.requestId,
    projectId: r.projectId,
    apiKeyId: r.apiKeyId,
    endpoint: r.endpoint,
    modelId: r.modelId,
    promptTokens: r.promptTokens,
    reservedCost: formatMoney(r.cost),
    inputPrice: r.priceText.input,
    outputPrice: r.priceText.output,
    cachedInputPrice: r.priceText.cachedInput,
    cacheWritePrice: r.priceText.cacheWrite,
    cacheWrite1hPrice: r.priceText.cacheWrite1h,
    stream: r.stream,
    test: r.test,
    replicaId: r.replicaId,
    leaseId,
  });
}

const insertReservationsStatement = preparedSql(
  'insert_reservations',
  sql`INSERT INTO usage_records (id, project_id, api_key_id, endpoint, model_id, status, prompt_tokens, reserved_cost,
      input_price, output_price, cached_input_price, cache_write_price, cache_write_1h_price, stream, test, replica_id, lease_id)
    SELECT id, project_id, api_key_id, endpoint, model_id, 'reserved', prompt_tokens, reserved_cost,
      input_price, output_price, cached_input_price, cache_write_price, cache_write_1h_price, stream, test, replica_id, lease_id
    FROM json_to_recordset(${sql.placeholder('rows')}::text::json) AS v(id text, project_id text, api_key_id text, endpoint text,
      model_id text, prompt_tokens int, reserved_cost numeric, input_price numeric, output_price numeric,
      cached_input_price numeric, cache_write_price numeric, cache_write_1h_price numeric, stream boolean, test boolean, replica_id text, lease_id text)`,
);

/**
 * Many `reserved` rows in one statement (one round trip, one commit). The
 * rows travel as one JSON parameter, so the statement text never changes
 * (json, not jsonb: see the settlement statement).
 */
export async function insertReservations(db: Db, batch: ReadonlyArray<{ reservation: Reservation; leaseId: string | null }>): Promise<void> {
  const rows = batch.map(({ reservation: r, leaseId }) => ({
    id: r.requestId,
    project_id: r.projectId,
    api_key_id: r.apiKeyId,
    endpoint: r.endpoint,
    model_id: r.modelId,
    prompt_tokens: r.promptTokens,
    reserved_cost: formatMoney(r.cost),
    input_price: r.priceText.input,
    output_price: r.priceText.output,
    cached_input_price: r.priceText.cachedInput,
    cache_write_price: r.priceText.cacheWrite,
    cache_write_1h_price: r.priceText.cacheWrite1h,
    stream: r.stream,
    test: r.test,
    replica_id: r.replicaId,
    lease_id: leaseId,
  }));
  await insertReservationsStatement(db, { rows: JSON.stringify(rows) });
}
