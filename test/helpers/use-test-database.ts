import { eq } from 'drizzle-orm';
import { afterAll, beforeAll } from 'vitest';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import type { KeyMode } from '../../src/core/keys/project-key.js';
import { type ApiKeyRow, type CreateApiKeyInput, createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import type { Database } from '../../src/db/open-database.js';
import { apiKeys, projects } from '../../src/db/schema.js';
import { openTestDatabase } from './test-database.js';

/** A numeric column as written by hand: no trailing zeros, no bare point. */
export const plain = (numeric: string): string => (numeric.includes('.') ? numeric.replace(/0+$/, '').replace(/\.$/, '') : numeric);

export interface CustomerOptions extends Omit<CreateApiKeyInput, 'projectId' | 'mode'> {
  /** The project's name; nothing asserts on it, it only tells files' rows apart when read by hand. */
  project?: string;
  balance?: string;
  mode?: KeyMode;
}

export interface TestDatabase {
  /** Open from beforeAll until afterAll. */
  readonly database: Database;
  readonly db: Database['db'];
  /** The bus the file's keys are created on; subscribe to it for events. */
  readonly bus: LocalEventBus;
  /** A project with a balance (10 unless given) and one key on it (live unless given). */
  customer(options?: CustomerOptions): Promise<{ projectId: string; apiKeyId: string; apiKey: ApiKeyRow }>;
  projectRow(id: string): Promise<{ balance: string; reserved: string }>;
  keyRow(id: string): Promise<{ reserved: string; periodSpent: string; spentTotal: string }>;
}

/**
 * A migrated database of the suite's backend for the core tests of one
 * file, with a local event bus: opened before the file's tests and closed
 * after them. Call it at the top of the file; read `db` inside tests only.
 * The functions close over the handle, so they may be destructured.
 */
export function useTestDatabase(): TestDatabase {
  let handle: Awaited<ReturnType<typeof openTestDatabase>> | undefined;
  const bus = new LocalEventBus();
  beforeAll(async () => {
    handle = await openTestDatabase();
  });
  afterAll(async () => handle?.close());

  const database = (): Database => {
    if (!handle) throw new Error('The test database opens in beforeAll: read it inside a test or hook.');
    return handle.database;
  };
  return {
    get database() {
      return database();
    },
    get db() {
      return database().db;
    },
    bus,
    async customer({ project: name = 'test', balance = '10', mode = 'live', ...key } = {}) {
      const db = database().db;
      const project = await createProject(db, { name, initialBalance: balance, actor: 'test' });
      const { apiKey } = await createApiKey(db, bus, { projectId: project.id, mode, ...key });
      return { projectId: project.id, apiKeyId: apiKey.id, apiKey };
    },
    async projectRow(id) {
      const [p] = await database().db.select().from(projects).where(eq(projects.id, id));
      return { balance: plain(p!.balance), reserved: plain(p!.reserved) };
    },
    async keyRow(id) {
      const [k] = await database().db.select().from(apiKeys).where(eq(apiKeys.id, id));
      return { reserved: plain(k!.reserved), periodSpent: plain(k!.periodSpent), spentTotal: plain(k!.spentTotal) };
    },
  };
}
