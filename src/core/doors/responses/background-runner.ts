import { GatewayError, isGatewayError } from '../../errors.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Logger } from '../../logger.js';
import { type ClientConnection, DepartingClient } from '../../request-context.js';
import { OPEN_STATUSES, type ResponseBody, type ResponseRecord, type ResponseStore } from './response-store.js';

/**
 * The client side of background work: never gone on its own (the caller
 * who created it may leave), gone once the response is cancelled, which
 * ends the upstream call the way a departing client would and settles what
 * was produced.
 */
export class CancellableClient extends DepartingClient {
  cancel(): void {
    this.depart();
  }
}

/**
 * Runs one response to its end with the given client and resolves with the
 * final response object. When the client goes (a cancel) it resolves with
 * what was produced so far rather than throwing; the runner stores it.
 */
export type ResponseWork = (client: ClientConnection) => Promise<ResponseBody>;

interface Running {
  client: CancellableClient;
  done: Promise<void>;
  /** Why the work was stopped early, when it was. */
  stoppedFor?: 'cancelled' | 'shutdown';
}

/** How often running work also reads its row, in case a cancel's event was lost between replicas. */
const CANCEL_POLL_MS = 5_000;
/** How long a cancel waits for local work to settle before answering with the row as it stands. */
const CANCEL_SETTLE_MS = 5_000;

export const SHUTDOWN_ERROR = { code: 'server_error', message: 'The gateway replica running this response shut down before it finished.' } as const;

/**
 * Background mode (`background: true`): the create call saves the response
 * as `queued` and returns at once; the work runs on this replica, detached
 * from the caller's connection, moving the row to `in_progress` and then to
 * the status the work ends with. A cancel, on any replica, marks the row
 * `cancelled` and publishes `response-cancel`; the replica running it aborts
 * the upstream call and stores what was produced. Rows are only ever moved
 * out of an open status by a conditional update, so a finished or cancelled
 * response is never overwritten by late work.
 */
export class BackgroundResponses {
  readonly #running = new Map<string, Running>();
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(
    private readonly store: ResponseStore,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {
    this.#unsubscribe = bus.subscribe('response-cancel', ({ responseId }) => this.#stop(responseId, 'cancelled'));
  }

  /** Saves the response as queued, starts `work` detached, and returns the queued response object. */
  async start(record: Omit<ResponseRecord, 'status' | 'background'>, work: ResponseWork): Promise<ResponseBody> {
    if (this.#closed) throw new GatewayError('service_unavailable', 'The gateway is shutting down; send the request again.');
    if (!record.store) {
      throw new GatewayError('invalid_request', 'Background responses must be stored: background=true needs store=true (the default).', { param: 'store' });
    }
    const queued: ResponseBody = { ...record.body, status: 'queued', background: true };
    await this.store.save({ ...record, status: 'queued', background: true, body: queued });
    const client = new CancellableClient();
    const running: Running = { client, done: Promise.resolve() };
    this.#running.set(record.id, running);
    running.done = this.#run(record.id, running, work).finally(() => this.#running.delete(record.id));
    return queued;
  }

  async #run(id: string, running: Running, work: ResponseWork): Promise<void> {
    if (!(await this.store.markStatus(id, ['queued'], 'in_progress'))) return;
    const watch = setInterval(() => void this.#checkCancelled(id), CANCEL_POLL_MS);
    watch.unref();
    try {
      const body = await work(running.client);
      if (running.stoppedFor === 'cancelled') {
        await this.store.markStatus(id, ['cancelled'], 'cancelled', settledFields(body));
      } else if (running.stoppedFor === 'shutdown') {
        await this.store.markStatus(id, OPEN_STATUSES, 'failed', { ...settledFields(body), error: SHUTDOWN_ERROR });
      } else {
        await this.store.markStatus(id, ['in_progress'], body.status, body);
      }
    } catch (err) {
      const error = isGatewayError(err) ? err : new GatewayError('internal', 'The gateway had an internal error while running the response.', { cause: err });
      if (error.kind === 'internal') this.logger.error({ err, responseId: id }, 'background response failed');
      await this.store.markStatus(id, OPEN_STATUSES, 'failed', { error: responseError(error) });
    } finally {
      clearInterval(watch);
    }
  }

  async #checkCancelled(id: string): Promise<void> {
    const status = await this.store.status(id).catch(() => undefined);
    if (status === 'cancelled' || status === undefined) this.#stop(id, 'cancelled');
  }

  #stop(id: string, why: 'cancelled' | 'shutdown'): void {
    const running = this.#running.get(id);
    if (!running || running.stoppedFor) return;
    running.stoppedFor = why;
    running.client.cancel();
  }

  /**
   * POST /v1/responses/{id}/cancel: only a background response that has not
   * finished; a cancelled one answers as it stands (the call is idempotent).
   */
  async cancel(projectId: string, id: string): Promise<ResponseBody> {
    const found = await this.store.find(projectId, id);
    if (!found.background) throw new GatewayError('invalid_request', 'Cannot cancel a synchronous response: only responses created with background=true can be cancelled.');
    if (found.status === 'cancelled') return found.body;
    if (!OPEN_STATUSES.includes(found.status)) throw new GatewayError('invalid_request', `Cannot cancel a response that is already ${found.status}.`);
    const marked = await this.store.markStatus(id, OPEN_STATUSES, 'cancelled', {}, projectId);
    if (!marked) return this.cancel(projectId, id);
    this.bus.publish('response-cancel', { responseId: id });
    const local = this.#running.get(id);
    if (!local) return marked;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([local.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, CANCEL_SETTLE_MS)))]);
    clearTimeout(timer);
    return this.store.get(projectId, id);
  }

  /** How many responses this replica is running. */
  get running(): number {
    return this.#running.size;
  }

  /** Resolves when no background work runs on this replica (tests wait on it). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /**
   * Shutdown: new work is refused; what runs gets `graceMs` to finish, then
   * is stopped and stored as failed (its usage settles as for a client that
   * left).
   */
  async close(graceMs: number): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([this.idle().then(() => 'idle' as const), grace])) === 'late') {
      for (const id of this.#running.keys()) this.#stop(id, 'shutdown');
      await this.idle();
    }
    clearTimeout(timer);
  }
}

/** What a stopped response keeps of its work: the output produced and its usage. */
const settledFields = (body: ResponseBody): Partial<ResponseBody> => ({
  output: body.output ?? [],
  ...(body.usage !== undefined ? { usage: body.usage } : {}),
});

/** A GatewayError as the response object's `error` (the spec's codes). */
export function responseError(error: GatewayError): { code: string; message: string } {
  const code = error.kind === 'rate_limited' ? 'rate_limit_exceeded' : error.kind === 'invalid_request' ? 'invalid_prompt' : 'server_error';
  return { code, message: error.message };
}
