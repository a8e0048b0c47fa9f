import { eq } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { apiKeys, projects } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import { formatMoney, parseMoney } from '../money.js';

export interface KeyBalance {
  object: 'balance';
  key_id: string;
  project_id: string;
  currency: string;
  balance: string;
  reserved: string;
  available: string;
  key: {
    id: string;
    prefix: string;
    mode: 'live' | 'test';
    spent: string;
    spent_total: string;
    spend_limit: string | null;
    spend_limit_period: 'total' | 'monthly';
    remaining_limit: string | null;
    expires_at: string | null;
    revoked: boolean;
  };
}

const plain = (numeric: string): string => formatMoney(parseMoney(numeric));

/**
 * GET /api/balance/:keyId. `asKeyId` is the key the caller presented
 * (undefined for an operator). Any other key gets the same 404 as an unknown
 * id, so key ids cannot be probed.
 */
export async function keyBalance(db: Db, keyId: string, asKeyId: string | undefined): Promise<KeyBalance> {
  const notFound = new GatewayError('not_found', `No API key with id '${keyId}'.`);
  if (asKeyId !== undefined && asKeyId !== keyId) throw notFound;
  const [row] = await db
    .select({ key: apiKeys, balance: projects.balance, reserved: projects.reserved, currency: projects.currency })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.id, keyId))
    .limit(1);
  if (!row) throw notFound;
  const { key } = row;
  const monthlyRolledOver =
    key.spendLimitPeriod === 'monthly' && key.periodStart < new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
  const spent = monthlyRolledOver ? 0n : parseMoney(key.periodSpent);
  const limit = key.spendLimit === null ? null : parseMoney(key.spendLimit);
  const balance = parseMoney(row.balance);
  const reserved = parseMoney(row.reserved);
  return {
    object: 'balance',
    key_id: key.id,
    project_id: key.projectId,
    currency: row.currency,
    balance: formatMoney(balance),
    reserved: formatMoney(reserved),
    available: formatMoney(balance - reserved),
    key: {
      id: key.id,
      prefix: key.prefix,
      mode: key.mode,
      spent: formatMoney(spent),
      spent_total: plain(key.spentTotal),
      spend_limit: limit === null ? null : formatMoney(limit),
      spend_limit_period: key.spendLimitPeriod,
      remaining_limit: limit === null ? null : formatMoney(limit - spent - parseMoney(key.reserved)),
      expires_at: key.expiresAt?.toISOString() ?? null,
      revoked: key.revokedAt !== null,
    },
  };
}
