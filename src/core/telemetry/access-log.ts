import type { Logger } from '../logger.js';
import { chargeOf } from './metrics.js';
import { formatMoney } from '../money.js';
import type { RequestObserver, RequestSummary } from './request-observer.js';

// One info line per request when it closes: who (project, key), what (door,
// model, route, attempts), how it ended (status, tokens, cost) and how long
// it took. Never a body, a header or a secret: every field is an id, a
// count, a catalogue name or a code. Requests that never reach metering
// (no key, an unknown route, a body that does not parse) get their line from
// the HTTP layer, which asks `reachedMetering` first so none gets two.

/** Ids remembered in two generations of this size: a request is answered long before its id is pushed out. */
const GENERATION = 4096;

class RecentIds {
  #current = new Set<string>();
  #previous = new Set<string>();

  add(id: string): void {
    if (this.#current.size >= GENERATION) {
      this.#previous = this.#current;
      this.#current = new Set();
    }
    this.#current.add(id);
  }

  /** Whether the id is remembered; it is forgotten either way. */
  take(id: string): boolean {
    return this.#current.delete(id) || this.#previous.delete(id);
  }
}

export interface AccessLine {
  requestId: string;
  traceId: string | null;
  projectId: string;
  apiKeyId: string;
  door: string;
  model: string;
  mode: 'live' | 'test';
  stream: boolean;
  provider: string | null;
  upstreamModel: string | null;
  upstreamKeyId: string | null;
  attempts: number;
  /** Each attempt's outcome, in order, when there was more than one or the one failed. */
  attemptOutcomes?: string[];
  status: string;
  httpStatus: number;
  errorCode: string | null;
  tokens: { input: number; cached: number; cacheWrite: number; cacheWrite1h: number; output: number; reasoning: number };
  /** The charge, exact, in the deployment currency. */
  cost: string;
  admissionMs: number | null;
  /** Until the first byte of the answer: the first chunk of a stream, the whole answer otherwise. */
  ttfbMs: number;
  durationMs: number;
}

export function accessLine(s: RequestSummary): AccessLine {
  const arrived = s.receivedAt ?? s.startedAt;
  const durationMs = Math.max(0, s.endedAt - arrived);
  const attempts = s.attempts;
  const line: AccessLine = {
    requestId: s.requestId,
    traceId: s.traceId,
    projectId: s.projectId,
    apiKeyId: s.apiKeyId,
    door: s.endpoint,
    model: s.modelId,
    mode: s.test ? 'test' : 'live',
    stream: s.stream,
    provider: s.route?.provider ?? null,
    upstreamModel: s.route?.upstreamModel ?? null,
    upstreamKeyId: s.route?.upstreamKeyId ?? null,
    attempts: attempts.length,
    status: s.status,
    httpStatus: s.httpStatus,
    errorCode: s.errorCode,
    tokens: {
      input: s.usage.promptTokens,
      cached: s.usage.cachedTokens,
      cacheWrite: s.usage.cacheWriteTokens ?? 0,
      cacheWrite1h: s.usage.cacheWrite1hTokens ?? 0,
      output: s.usage.completionTokens,
      reasoning: s.usage.reasoningTokens,
    },
    cost: formatMoney(chargeOf(s)),
    admissionMs: s.admissionMs,
    ttfbMs: s.ttftMs === null ? durationMs : Math.max(0, s.startedAt + s.ttftMs - arrived),
    durationMs,
  };
  if (attempts.length > 1 || (attempts.length === 1 && attempts[0]!.outcome !== 'ok')) line.attemptOutcomes = attempts.map((a) => a.outcome);
  return line;
}

export class AccessLog implements RequestObserver {
  readonly #metered = new RecentIds();

  /**
   * `knownModel`: whether a name is in the catalogue. A refused request may
   * name anything (up to the body limit); that name is logged as `unknown`,
   * as the metrics label it, so no client text reaches the log.
   */
  constructor(
    private readonly logger: Logger,
    private readonly knownModel: (id: string) => boolean = () => false,
  ) {}

  requestOpened(requestId: string): void {
    this.#metered.add(requestId);
  }

  requestClosed(summary: RequestSummary): void {
    // A refusal closes without opening: it is metered all the same.
    if (summary.status === 'rejected') this.#metered.add(summary.requestId);
    const line = accessLine(summary);
    if (summary.status === 'rejected' && !this.knownModel(line.model)) line.model = line.model === '' ? '' : 'unknown';
    this.logger.info(line, 'access');
  }

  /** For the HTTP layer, once the response is sent: true when this request's line is (or will be) written here. */
  reachedMetering(requestId: string): boolean {
    return this.#metered.take(requestId);
  }
}
