import { count, eq, like } from 'drizzle-orm';
import type { Config } from '../../config.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import type { Db } from '../../db/open-database.js';
import { models, settings, upstreamKeys } from '../../db/schema.js';
import type { AdminTokens } from '../admin/admin-tokens.js';
import { defaultCatalogue } from '../catalogue/default-catalogue.js';
import { upsertModel } from '../catalogue/upsert-model.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import { createApiKey, createProject, setModelPermissions } from '../projects/project-admin.js';
import { addUpstreamKey } from '../routing/upstream-key-admin.js';
import type { SecretBox } from '../secrets/secret-box.js';

export interface FirstStartResult {
  /** Set only when this start generated the token: print it once. */
  generatedAdminToken?: string;
  demo?: { projectId: string; keyId: string; secret: string };
}

const BOOTSTRAPPED = 'bootstrapped_at';

/**
 * Makes a fresh database usable: the catalogue, the operator token, a demo
 * project with a test key. Runs its one-time part only once per database, so
 * a second start prints no new secrets. Idempotent parts (ADMIN_TOKEN, env
 * upstream keys) run on every start: each provider that names a `seedEnv`
 * gets that variable's value as a key labelled `env:<VARIABLE>`, once.
 */
export async function firstStart(deps: {
  db: Db;
  config: Config;
  bus: EventBus;
  secrets: SecretBox;
  adminTokens: AdminTokens;
  logger: Logger;
  /** The gateway's providers; their `seedEnv` variables are read from `env`. */
  providers: readonly ProviderInfo[];
  /** The process environment (config.ts does not list the providers' variables). */
  env: Readonly<Record<string, string | undefined>>;
}): Promise<FirstStartResult> {
  const { db, config, bus, secrets, adminTokens, providers, env } = deps;
  const result: FirstStartResult = {};

  if (config.ADMIN_TOKEN && !(await adminTokens.exists(config.ADMIN_TOKEN))) {
    await adminTokens.create('ADMIN_TOKEN', 'admin', config.ADMIN_TOKEN);
  }
  for (const { id: provider, seedEnv } of providers) {
    const secret = seedEnv ? env[seedEnv]?.trim() : undefined;
    if (!secret) continue;
    const label = `env:${seedEnv}`;
    const existing = await db.select({ id: upstreamKeys.id }).from(upstreamKeys).where(like(upstreamKeys.label, label));
    if (existing.length === 0) await addUpstreamKey(db, secrets, bus, providers, { provider, label, secret });
  }

  const [done] = await db.select().from(settings).where(eq(settings.key, BOOTSTRAPPED));
  if (done) return result;

  const [{ n } = { n: 0 }] = await db.select({ n: count() }).from(models);
  if (n === 0) for (const model of defaultCatalogue) await upsertModel(db, model);

  if (!config.ADMIN_TOKEN) {
    const token = await adminTokens.create('first-start', 'admin');
    result.generatedAdminToken = token.secret;
  }
  const project = await createProject(db, { name: 'demo', initialBalance: config.DEMO_PROJECT_BALANCE, actor: 'first-start' });
  await setModelPermissions(db, bus, project.id, ['*']);
  const key = await createApiKey(db, bus, { projectId: project.id, mode: 'test', name: 'demo test key' });
  result.demo = { projectId: project.id, keyId: key.apiKey.id, secret: key.secret };
  await db.insert(settings).values({ key: BOOTSTRAPPED, value: new Date().toISOString() });
  return result;
}
