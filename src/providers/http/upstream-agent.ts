import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';

/**
 * How long a silent upstream is waited for: for its response headers, and
 * between two reads of its body. The request's deadline is the caller's
 * signal; these are the gateway's own, so a call they end is the key's
 * failure (a retryable transport error), not the client's cancellation.
 */
export interface UpstreamTimeouts {
  headersMs: number;
  bodyMs: number;
}

const DEFAULT_TIMEOUTS: UpstreamTimeouts = { headersMs: 300_000, bodyMs: 300_000 };

const agentOptions = (timeouts: UpstreamTimeouts) => ({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  headersTimeout: timeouts.headersMs,
  bodyTimeout: timeouts.bodyMs,
});

// One connection pool for every upstream call: keep-alive sockets are reused
// across requests to the same origin, which matters for TLS-heavy providers.
export const upstreamAgent = new Agent(agentOptions(DEFAULT_TIMEOUTS));

/**
 * Why a connection to `host` (a name or IP literal), at `address` once
 * resolved, is refused; undefined to let it through (for a name without an
 * address: undecided until it is resolved).
 */
export type HostCheck = (host: string, address?: string) => string | undefined;

/** How a name becomes its addresses: the system resolver (getaddrinfo, /etc/hosts included) unless a test says otherwise. */
export type ResolveAll = (hostname: string, options: LookupOptions, callback: (err: Error | null, addresses: LookupAddress[]) => void) => void;

const resolveAll: ResolveAll = (hostname, options, callback) => dnsLookup(hostname, { ...options, all: true }, callback);

export interface UpstreamAgentOptions {
  /** Without one, a plain pool: every host is let through and nothing is looked up by us. */
  check?: HostCheck;
  /** Told the operator-facing reason of each refusal (the gateway logs it). */
  onRefused?: (reason: string) => void;
  resolve?: ResolveAll;
  timeouts?: UpstreamTimeouts;
}

/** The code of the error a refused connection fails with. */
export const HOST_REFUSED = 'UPSTREAM_HOST_REFUSED';

export class HostRefusedError extends Error {
  readonly code = HOST_REFUSED;
  constructor(readonly reason: string) {
    super(`upstream host refused: ${reason}`);
    this.name = 'HostRefusedError';
  }
}

/**
 * A pool like `upstreamAgent` whose sockets connect only where `check` lets
 * them. The check runs at connect time on the very address the socket is
 * given, by a DNS lookup of our own handed to net/tls.connect (an IP literal
 * is never looked up, so it is checked before), so what was checked is what
 * is connected to, however the name resolves by then. Kept-alive sockets were
 * checked when they opened.
 */
export function createUpstreamAgent(options: UpstreamAgentOptions = {}): Agent {
  const { check, onRefused = () => {}, resolve = resolveAll, timeouts = DEFAULT_TIMEOUTS } = options;
  if (!check) return new Agent(agentOptions(timeouts));
  const refuse = (reason: string): HostRefusedError => {
    onRefused(reason);
    return new HostRefusedError(reason);
  };
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname, lookupOptions, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      // Every address the name has must pass: Node may try any of them (autoSelectFamily).
      for (const { address } of addresses) {
        const reason = check(hostname, address);
        if (reason) return callback(refuse(reason), []);
      }
      if (lookupOptions.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
  const connector = buildConnector({ lookup } as buildConnector.BuildOptions);
  return new Agent({
    ...agentOptions(timeouts),
    connect: (connectOptions, callback) => {
      const host = connectOptions.hostname.startsWith('[') ? connectOptions.hostname.slice(1, -1) : connectOptions.hostname;
      // A literal is never looked up; a name is checked by itself first (UPSTREAM_HOSTS_DENY names), then on each address.
      const reason = isIP(host) ? check(host, host) : check(host);
      if (reason) return callback(refuse(reason), null);
      return connector(connectOptions, callback);
    },
  });
}
