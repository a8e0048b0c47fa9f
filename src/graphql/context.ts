import type { Operator } from '../core/admin/admin-tokens.js';
import type { Gateway } from '../core/gateway.js';

/** What every resolver gets: the gateway's services and the verified operator (null: none). */
export interface GraphQLContext {
  gateway: Gateway;
  operator: Operator | null;
  /** Aborted when the server closes: live feeds end so connections can drain. */
  shutdown: AbortSignal;
  /** How often providerHealth repeats a snapshot of every key. */
  healthHeartbeatMs: number;
}
