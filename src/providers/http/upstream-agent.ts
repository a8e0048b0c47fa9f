import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';

const AGENT_OPTIONS = {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  // The caller's AbortSignal carries the request deadline; these only catch a
  // silent upstream that never times the call out itself.
  headersTimeout: 300_000,
  bodyTimeout: 300_000,
} as const;

// One connection pool for every upstream call: keep-alive sockets are reused
// across requests to the same origin, which matters for TLS-heavy providers.
export const upstreamAgent = new Agent(AGENT_OPTIONS);

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
  check: HostCheck;
  /** Told the operator-facing reason of each refusal (the gateway logs it). */
  onRefused: (reason: string) => void;
  resolve?: ResolveAll;
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
export function createUpstreamAgent(options: UpstreamAgentOptions): Agent {
  const { check, onRefused, resolve = resolveAll } = options;
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
    ...AGENT_OPTIONS,
    connect: (connectOptions, callback) => {
      const host = connectOptions.hostname.startsWith('[') ? connectOptions.hostname.slice(1, -1) : connectOptions.hostname;
      // A literal is never looked up; a name is checked by itself first (UPSTREAM_HOSTS_DENY names), then on each address.
      const reason = isIP(host) ? check(host, host) : check(host);
      if (reason) return callback(refuse(reason), null);
      return connector(connectOptions, callback);
    },
  });
}
