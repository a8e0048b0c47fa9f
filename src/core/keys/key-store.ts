import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/open-database.js';
import { apiKeys, projects } from '../../db/schema.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { hashSecret, type KeyMode, projectKeyMode } from './project-key.js';

export interface AuthenticatedKey {
  id: string;
  projectId: string;
  mode: KeyMode;
  expiresAt: Date | null;
  revokedAt: Date | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** Keys with a spend limit reserve on their own row so the limit is exact. */
  hasSpendLimit: boolean;
  project: {
    status: 'active' | 'archived';
    rpmLimit: number | null;
    tpmLimit: number | null;
    currency: string;
    /** Set when the project captures payloads for the request explorer (core/explorer/payload-capture.ts). */
    capture?: { redactPatterns: readonly string[] };
  };
}

/** A cache safety net: even a lost invalidation event is healed within this time. */
const CACHE_TTL_MS = 60_000;

/**
 * Project key lookup by hash, cached in memory. Revocations and edits
 * publish an `api-key`/`project` invalidation that empties the cache on every
 * replica, so a revoked key stops working within the bus's delivery time.
 */
export class KeyStore {
  readonly #cache = new LRUCache<string, AuthenticatedKey | 'unknown'>({ max: 50_000, ttl: CACHE_TTL_MS });
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    bus: EventBus,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'api-key' || event.kind === 'project') this.#cache.clear();
    });
  }

  /** Resolves a presented secret to a usable key, or throws a 401 that says why. */
  async authenticate(secret: string | undefined, now = new Date()): Promise<AuthenticatedKey> {
    if (!secret) {
      throw new GatewayError('authentication', 'Missing API key. Send it as "Authorization: Bearer pk_...", "X-API-Key" or "?api_key=".');
    }
    if (!projectKeyMode(secret)) {
      throw new GatewayError('authentication', 'Malformed API key: project keys look like pk_live_... or pk_test_....');
    }
    const hash = hashSecret(secret);
    let key = this.#cache.get(hash);
    if (key === undefined) {
      key = (await this.#load(hash)) ?? 'unknown';
      this.#cache.set(hash, key);
    }
    if (key === 'unknown') throw new GatewayError('authentication', 'Incorrect API key provided.');
    if (key.revokedAt) throw new GatewayError('authentication', 'This API key has been revoked.');
    if (key.expiresAt && key.expiresAt <= now) {
      throw new GatewayError('authentication', `This API key expired at ${key.expiresAt.toISOString()}.`);
    }
    if (key.project.status !== 'active') throw new GatewayError('authentication', "This API key's project is archived.");
    return key;
  }

  async #load(hash: string): Promise<AuthenticatedKey | undefined> {
    const [row] = await this.db
      .select({
        id: apiKeys.id,
        projectId: apiKeys.projectId,
        mode: apiKeys.mode,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
        rpmLimit: apiKeys.rpmLimit,
        tpmLimit: apiKeys.tpmLimit,
        spendLimit: apiKeys.spendLimit,
        projectStatus: projects.status,
        projectRpm: projects.rpmLimit,
        projectTpm: projects.tpmLimit,
        currency: projects.currency,
        capturePayloads: projects.capturePayloads,
        redactPatterns: projects.redactPatterns,
      })
      .from(apiKeys)
      .innerJoin(projects, eq(projects.id, apiKeys.projectId))
      .where(eq(apiKeys.keyHash, hash))
      .limit(1);
    if (!row) return undefined;
    const { projectStatus, projectRpm, projectTpm, currency, spendLimit, capturePayloads, redactPatterns, ...key } = row;
    return {
      ...key,
      hasSpendLimit: spendLimit !== null,
      project: { status: projectStatus, rpmLimit: projectRpm, tpmLimit: projectTpm, currency, ...(capturePayloads ? { capture: { redactPatterns } } : {}) },
    };
  }

  close(): void {
    this.#unsubscribe();
  }
}
