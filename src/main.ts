import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './create-logger.js';
import { firstStart } from './core/bootstrap/first-start.js';
import { createGateway } from './core/gateway.js';
import { loadEncryptionKey } from './core/secrets/load-encryption-key.js';
import { openDatabase } from './db/open-database.js';
import { vacuumWarning } from './db/vacuum-check.js';
import { packageRoot } from './package-root.js';
import { defaultProviders } from './providers/registry.js';
import { printTryIt } from './try-it.js';
import { createTracing } from './telemetry/create-tracing.js';

const MIGRATIONS = join(packageRoot(import.meta.url), 'drizzle');
const DRAIN_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  let config: Config;
  let traces: Awaited<ReturnType<typeof createTracing>>;
  try {
    config = loadConfig();
    traces = await createTracing(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  // V8 reads this flag whenever it sizes the heap after a full collection, so it works when set at run time.
  if (config.HEAP_GROWING_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWING_PERCENT}`);
  const logger = createLogger(config.LOG_LEVEL);
  if (traces) logger.info({ endpoint: traces.settings.url, serviceName: traces.settings.serviceName, sampler: traces.settings.samplerName }, 'tracing on: spans exported over OTLP/HTTP');
  // One line per start-up phase, so a slow first start says where it is.
  const phase = async <T>(name: string, run: () => Promise<T> | T, detail?: (value: T) => object): Promise<T> => {
    const started = performance.now();
    const value = await run();
    logger.info({ phase: name, ms: Math.round(performance.now() - started), ...detail?.(value) }, `start: ${name}`);
    return value;
  };
  const database = await phase(
    'database opened and migrated',
    () =>
      openDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: config.DATA_DIR,
        migrationsFolder: MIGRATIONS,
        onVacuum: (err, ms) => {
          if (err) logger.error({ err }, 'vacuum of the embedded database failed');
          else logger.debug({ ms: Math.round(ms) }, 'vacuumed the embedded database');
        },
      }),
    (db) => ({ database: db.raw.kind }),
  );
  const vacuum = await vacuumWarning(database);
  if (vacuum) logger.warn(vacuum);
  const { box: secrets } = loadEncryptionKey(config.ENCRYPTION_KEY, config.DATA_DIR);
  const gateway = await phase('gateway created', () => createGateway({ config, database, secrets, logger, providers: defaultProviders(), tracing: traces?.tracing }), (g) => ({ replicaId: g.replicaId }));
  const bootstrap = await phase('first-start check', () =>
    database.exclusive(() => firstStart({ db: database.db, config, bus: gateway.bus, secrets, adminTokens: gateway.adminTokens, logger, providers: gateway.providers, env: process.env })),
  );
  await phase('catalogue loaded', () => gateway.catalogue.reload());
  const recovered = await phase('stale reservations recovered', () => gateway.recover(), (n) => ({ recovered: n }));
  if (recovered > 0) logger.warn({ recovered }, 'settled stale reservations from an earlier run');

  const app = await phase('HTTP app built', () => buildApp(gateway, { logger }));
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  logger.info({ address, database: database.raw.kind, replicaId: gateway.replicaId }, 'gateway listening');
  printTryIt(address, bootstrap);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const force = setTimeout(() => process.exit(1), DRAIN_TIMEOUT_MS);
    force.unref();
    await app.close(); // stops accepting, waits for in-flight requests and streams
    await gateway.close(); // writes pending settlements
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
