import type { Config } from '../config.js';
import type { Database } from '../db/open-database.js';
import type { ProviderInfo } from '../contract/provider-info.js';
import type { ProviderSet } from '../contract/provider-set.js';
import { AdminTokens } from './admin/admin-tokens.js';
import { disableRejectedUpstreamKey } from './admin/upstream-key-actions.js';
import { Metering } from './billing/metering.js';
import { recoverStaleReservations } from './billing/recover-stale.js';
import { ReplicaHeartbeat } from './billing/replica-heartbeat.js';
import { Catalogue } from './catalogue/catalogue.js';
import { ChatService } from './chat/chat-service.js';
import { EmbeddingService } from './embeddings/embedding-service.js';
import { BackgroundResponses } from './doors/responses/background-runner.js';
import { startResponsePurge } from './doors/responses/response-retention.js';
import { ResponseStore } from './doors/responses/response-store.js';
import { ResponsesService } from './doors/responses/responses-service.js';
import { PayloadStore } from './explorer/payload-store.js';
import type { EventBus } from './events/event-bus.js';
import { createEventBus } from './events/create-event-bus.js';
import { HealthTracker } from './health/health-tracker.js';
import { newId } from '../contract/ids.js';
import { KeyStore } from './keys/key-store.js';
import type { Logger } from './logger.js';
import { PermissionStore } from './permissions/permission-store.js';
import { Dispatcher } from './routing/dispatcher.js';
import { UpstreamPool } from './routing/upstream-pool.js';
import { hostPolicyOf, hostRefusal, isOpenPolicy, type UpstreamHostPolicy } from './routing/upstream-host-policy.js';
import { hopMarkOf } from './routing/upstream-hop.js';
import type { SecretBox } from './secrets/secret-box.js';
import type { Tracing } from './telemetry/tracing.js';
import { MemoryRateLimiter } from './rate-limit/memory-rate-limiter.js';
import type { RateLimiter } from './rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './rate-limit/redis-rate-limiter.js';
import { tokenCountPool } from '../tokens/count-pool.js';

export interface GatewayOptions {
  config: Config;
  database: Database;
  secrets: SecretBox;
  logger: Logger;
  bus?: EventBus;
  /** The adapters, the test-mode mock and the upstream pool: src/providers/registry.ts's defaultProviders(). */
  providers: ProviderSet;
  /** OpenTelemetry traces (src/telemetry/create-tracing.ts); absent, tracing is off and costs nothing. */
  tracing?: Tracing | undefined;
}

const RECOVERY_INTERVAL_MS = 60_000;
const SHUTDOWN_GRACE_MS = 10_000;

/** Every core service of one gateway process, wired once; both front doors use it. */
export interface Gateway {
  readonly config: Config;
  readonly database: Database;
  readonly bus: EventBus;
  readonly secrets: SecretBox;
  readonly logger: Logger;
  readonly replicaId: string;
  /** This deployment's loop-guard mark, the same on every replica (upstream-hop.ts). */
  readonly hopMark: string;
  /** Where upstream calls may go (UPSTREAM_HOSTS_DENY / _ALLOW, UPSTREAM_DENY_PRIVATE). */
  readonly upstreamHosts: UpstreamHostPolicy;
  /** The providers upstream keys and model routes may name, as their adapters declare them. */
  readonly providers: readonly ProviderInfo[];
  readonly keys: KeyStore;
  readonly adminTokens: AdminTokens;
  readonly catalogue: Catalogue;
  readonly permissions: PermissionStore;
  readonly pool: UpstreamPool;
  readonly health: HealthTracker;
  readonly metering: Metering;
  readonly dispatcher: Dispatcher;
  readonly chat: ChatService;
  readonly embeddings: EmbeddingService;
  readonly rateLimiter: RateLimiter;
  /** Present when traces are exported (OTEL_* variables). */
  readonly tracing: Tracing | undefined;
  /** Stored Responses API responses, under their project. */
  readonly responseStore: ResponseStore;
  /** Background responses this replica runs. */
  readonly backgroundResponses: BackgroundResponses;
  /** POST /v1/responses: the Responses API door over the chat service. */
  readonly responses: ResponsesService;
  /** Captured prompts and answers for the request explorer (projects with capturePayloads). */
  readonly payloads: PayloadStore;
  /** Settles reservations that outlived any request. */
  recover(): Promise<number>;
  close(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, database, secrets, logger } = options;
  const db = database.db;
  const bus = options.bus ?? (await createEventBus(config, database, logger));
  const replicaId = newId('rep', 12);
  const keys = new KeyStore(db, bus);
  const adminTokens = new AdminTokens(db, bus);
  const catalogue = new Catalogue(db, bus);
  const permissions = new PermissionStore(db, bus);
  const pool = new UpstreamPool(db, secrets, bus);
  const health = new HealthTracker(bus);
  const hopMark = hopMarkOf(secrets);
  const upstreamHosts = hostPolicyOf(config);
  const { adapters, mock, createAgent } = options.providers;
  const providers = [...adapters.values()].map((adapter) => adapter.info);
  const timeouts = { headersMs: Math.round(config.UPSTREAM_HEADERS_TIMEOUT_SECONDS * 1000), bodyMs: Math.round(config.UPSTREAM_BODY_TIMEOUT_SECONDS * 1000) };
  // An open policy needs no check: a plain pool, no lookup of our own.
  const upstreamAgent = isOpenPolicy(upstreamHosts)
    ? createAgent({ timeouts })
    : createAgent({
        check: (host, address) => hostRefusal(upstreamHosts, host, address),
        onRefused: (reason) => logger.warn({ reason }, 'upstream connection refused by the host policy'),
        timeouts,
      });
  const metering = new Metering(db, bus, replicaId, logger);
  if (options.tracing) metering.observe(options.tracing);
  const payloads = new PayloadStore(db, logger, config.PAYLOAD_RETENTION_DAYS);
  metering.observe(payloads);
  const dispatcher = new Dispatcher({
    pool,
    health,
    adapters,
    mock,
    modelById: (id) => catalogue.get(id),
    defaultBaseUrl: (provider) => adapters.get(provider)?.info.defaultBaseUrl,
    onKeyFatal: (keyId, reason) => {
      logger.error({ upstreamKeyId: keyId, reason }, 'upstream rejected the key; disabling it');
      disableRejectedUpstreamKey({ database, bus, secrets, pool, health, upstreamHosts, providers }, keyId, reason).catch((err: unknown) =>
        logger.error({ err, upstreamKeyId: keyId }, 'could not disable upstream key'),
      );
    },
    logger,
    upstream: { agent: upstreamAgent, hopMark },
    tracing: options.tracing,
  });
  const rateLimiter: RateLimiter = config.REDIS_URL ? new RedisRateLimiter(config.REDIS_URL, logger) : new MemoryRateLimiter();
  const services = { catalogue, permissions, metering, dispatcher, rateLimiter, defaultDeadlineMs: Math.round(config.REQUEST_DEADLINE_SECONDS * 1000) };
  const chat = new ChatService(services);
  const embeddings = new EmbeddingService(services);
  const responseStore = new ResponseStore(db, replicaId);
  const backgroundResponses = new BackgroundResponses(responseStore, bus, logger);
  const responses = new ResponsesService({ chat, metering, logger, state: responseStore, background: backgroundResponses });

  await Promise.all([catalogue.ready(), pool.ready()]);

  const heartbeatMs = config.REPLICA_HEARTBEAT_SECONDS * 1000;
  const heartbeat = new ReplicaHeartbeat(db, replicaId, heartbeatMs, (err) => logger.error({ err }, 'replica heartbeat failed'));
  await heartbeat.start();
  const recover = () =>
    recoverStaleReservations(
      db,
      { olderThan: new Date(Date.now() - config.STALE_RESERVATION_SECONDS * 1000), deadBefore: new Date(Date.now() - 3 * heartbeatMs), self: replicaId },
      (result) => logger.warn({ requestId: result.requestId }, 'settled a stale reservation'),
    );
  const recoveryTimer = setInterval(() => {
    recover().catch((err: unknown) => logger.error({ err }, 'recovery pass failed'));
    metering.escrow.releaseIdle().catch((err: unknown) => logger.error({ err }, 'returning idle leases failed'));
  }, Math.min(RECOVERY_INTERVAL_MS, heartbeatMs * 2));
  recoveryTimer.unref();
  const stopResponsePurge = startResponsePurge(responseStore, config.RESPONSES_RETENTION_DAYS, logger);

  return {
    config,
    database,
    bus,
    secrets,
    logger,
    replicaId,
    hopMark,
    upstreamHosts,
    providers,
    keys,
    adminTokens,
    catalogue,
    permissions,
    pool,
    health,
    metering,
    dispatcher,
    chat,
    embeddings,
    rateLimiter,
    tracing: options.tracing,
    payloads,
    responseStore,
    backgroundResponses,
    responses,
    recover,
    async close() {
      clearInterval(recoveryTimer);
      stopResponsePurge();
      // Background work gets the grace too; what outlives it is stopped, stored as failed and settled below.
      await backgroundResponses.close(SHUTDOWN_GRACE_MS);
      // Requests still between reserve and settle get a bounded grace; what
      // outlives it stays `reserved` and the recovery pass settles it.
      await metering.drain(SHUTDOWN_GRACE_MS);
      // After the drain, so the last settlements' spans go out too.
      await options.tracing?.shutdown().catch((err: unknown) => logger.error({ err }, 'exporting the last spans failed'));
      await payloads.close().catch((err: unknown) => logger.error({ err }, 'writing captured payloads failed'));
      tokenCountPool.close();
      await metering.escrow.releaseAll().catch((err: unknown) => logger.error({ err }, 'returning leases failed'));
      await heartbeat.stop();
      for (const part of [keys, adminTokens, catalogue, permissions, pool]) part.close();
      await rateLimiter.close();
      await bus.close();
      // Every request has been answered by now: what still holds an upstream socket has no one to answer.
      await upstreamAgent.destroy();
    },
  };
}
