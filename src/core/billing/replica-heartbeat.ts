import { hostname } from 'node:os';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { replicas } from '../../db/schema.js';

/** Registers this process and keeps its heartbeat fresh so others can tell it is alive. */
export class ReplicaHeartbeat {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    readonly replicaId: string,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.db.insert(replicas).values({ id: this.replicaId, hostname: hostname(), pid: process.pid });
    this.#timer = setInterval(() => {
      this.db
        .update(replicas)
        .set({ heartbeatAt: sql`now()` })
        .where(eq(replicas.id, this.replicaId))
        .catch(this.onError);
    }, this.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.db.delete(replicas).where(eq(replicas.id, this.replicaId)).catch(this.onError);
  }
}
