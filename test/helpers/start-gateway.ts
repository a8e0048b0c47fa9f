import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { firstStart } from '../../src/core/bootstrap/first-start.js';
import { type Gateway, createGateway } from '../../src/core/gateway.js';
import { silentLogger } from '../../src/core/logger.js';
import { createApiKey, createProject, setModelPermissions } from '../../src/core/projects/project-admin.js';
import { SecretBox } from '../../src/core/secrets/secret-box.js';
import { type Database, openDatabase } from '../../src/db/open-database.js';
import type { ProviderSet } from '../../src/contract/provider-set.js';
import { defaultProviders } from '../../src/providers/registry.js';
import { createTracing } from '../../src/telemetry/create-tracing.js';
import { createTestDatabase, onPostgres } from './test-database.js';

const MIGRATIONS = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface TestGateway {
  url: string;
  /** The base URL an OpenAI SDK takes. */
  baseURL: string;
  gateway: Gateway;
  database: Database;
  app: FastifyInstance;
  adminToken: string;
  /** The Postgres URL when on Postgres, to start a second replica on the same database. */
  databaseUrl: string | undefined;
  encryptionKey: string;
  client(apiKey: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  /** A project with a balance, permissions and a key of the given mode. */
  project(options?: { balance?: string; models?: string[]; mode?: 'live' | 'test'; spendLimit?: string; rpmLimit?: number; tpmLimit?: number }): Promise<{
    projectId: string;
    keyId: string;
    secret: string;
  }>;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Share an existing Postgres database (a second replica); the caller owns and drops it. */
  databaseUrl?: string;
  /** With databaseUrl: the first replica's encryption key, so both read the same secrets. */
  encryptionKey?: string;
  /** In place of the registry's adapters, mock and upstream pool. */
  providers?: ProviderSet;
  /** A pino logger for the gateway and its HTTP app (default: silent), e.g. one writing to a stream a test reads. */
  logger?: FastifyBaseLogger;
}

/** The real server on a random loopback port, on PGlite or a fresh Postgres database. */
export async function startGateway(options: StartOptions = {}): Promise<TestGateway> {
  const adminToken = `gwa_test_${randomBytes(16).toString('hex')}`;
  const pg = !options.databaseUrl && onPostgres() ? await createTestDatabase() : undefined;
  const env = {
    DATA_DIR: 'memory://',
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'silent',
    ENCRYPTION_KEY: options.encryptionKey ?? randomBytes(32).toString('hex'),
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, migrationsFolder: MIGRATIONS });
  const secrets = SecretBox.fromString(config.ENCRYPTION_KEY!);
  const gateway = await createGateway({
    config,
    database,
    secrets,
    logger: options.logger ?? silentLogger,
    providers: options.providers ?? defaultProviders(),
    // OTEL_* in `env` turn tracing on, as in production; the gateway's close shuts the exporter down.
    tracing: (await createTracing(env))?.tracing,
  });
  await firstStart({ db: database.db, config, bus: gateway.bus, secrets, adminTokens: gateway.adminTokens, logger: silentLogger, providers: gateway.providers, env });
  await gateway.catalogue.reload();
  const app = await buildApp(gateway, options.logger ? { logger: options.logger } : {});
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    baseURL: `${address}/v1`,
    gateway,
    database,
    app,
    adminToken,
    databaseUrl: config.DATABASE_URL,
    encryptionKey: config.ENCRYPTION_KEY!,
    client: (apiKey, clientOptions = {}) => new OpenAI({ apiKey, baseURL: `${address}/v1`, maxRetries: 0, ...clientOptions }),
    async project({ balance = '10', models = ['*'], mode = 'test', spendLimit, rpmLimit, tpmLimit } = {}) {
      const project = await createProject(database.db, { name: `p-${randomBytes(3).toString('hex')}`, initialBalance: balance, actor: 'test' });
      await setModelPermissions(database.db, gateway.bus, project.id, models);
      const key = await createApiKey(database.db, gateway.bus, { projectId: project.id, mode, name: 'test', ...(spendLimit ? { spendLimit } : {}), rpmLimit: rpmLimit ?? null, tpmLimit: tpmLimit ?? null });
      return { projectId: project.id, keyId: key.apiKey.id, secret: key.secret };
    },
    async close() {
      await app.close();
      await gateway.close();
      await database.close();
      await pg?.drop();
    },
  };
}
