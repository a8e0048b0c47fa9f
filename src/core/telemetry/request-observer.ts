import type { Endpoint } from '../../contract/endpoints.js';
import type { UsageCounts } from '../billing/usage-counts.js';
import type { PayloadCapture } from '../explorer/payload-capture.js';
import type { AttemptRecord } from '../routing/attempt-record.js';
import type { RouteInfo } from '../routing/dispatcher.js';

// What every metered request looks like once it is over, handed to whoever
// watches requests (metrics, the access log, traces, the live usage event,
// payload capture). Observers run on the request's path: they must be cheap
// and must not throw; anything slow is queued by the observer itself.

export type ClosedStatus = 'ok' | 'error' | 'aborted' | 'rejected';

export interface RequestSummary {
  requestId: string;
  projectId: string;
  apiKeyId: string;
  endpoint: Endpoint;
  /** The public model the client asked for ('' when the body named none). */
  modelId: string;
  route: RouteInfo | undefined;
  status: ClosedStatus;
  httpStatus: number;
  errorCode: string | null;
  usage: UsageCounts;
  /** What the request costs in pico-units (the charge, before the cap at the reservation). */
  cost: bigint;
  reservedCost: bigint;
  /** Where the reservation was held (absent when refused before one). */
  reservation?: ReservationHolder | undefined;
  stream: boolean;
  test: boolean;
  /** Epoch ms when the door received it (when the door said so), and when the reservation was held. */
  receivedAt: number | undefined;
  startedAt: number;
  endedAt: number;
  admissionMs: number | null;
  ttftMs: number | null;
  /** Every upstream attempt, in order (empty when refused before any). */
  attempts: readonly AttemptRecord[];
  traceId: string | null;
  /** The request's payloads, when its project captures them (read by the payload store only). */
  capture?: PayloadCapture | undefined;
}

/** A replica's lease on the project's balance, the project's (and key's) row, or nothing for a free request. */
export type ReservationHolder = 'lease' | 'row' | 'free';

/** One request of a settlement batch that was written. */
export interface SettledRequest {
  requestId: string;
  /** Pico-units charged. */
  charged: bigint;
}

export interface RequestObserver {
  /** The request holds its reservation: a summary will follow (the access log waits for it). */
  requestOpened?(requestId: string): void;
  requestClosed(summary: RequestSummary): void;
  /** A settlement batch was written, from `startedAt` to `endedAt` (epoch ms): its requests (traces draw it under each). */
  requestsSettled?(requests: readonly SettledRequest[], startedAt: number, endedAt: number): void;
}
