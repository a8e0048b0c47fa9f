import { BlockList, isIP } from 'node:net';

// Which hosts upstream calls may reach. An operator's list entry is a host
// name (`api.openai.com`), a wildcard for its subdomains (`*.openai.azure.com`,
// not the name itself), an IP address or a CIDR range (`10.0.0.0/8`,
// `fd00::/8`). The policy is asked twice: when a key is saved, with the base
// URL's host only (an early, clear error), and when a socket is about to
// connect, with the address it will connect to, so a name that resolves, or
// later re-resolves (DNS rebinding), to a refused address is refused.

export interface HostList {
  readonly names: ReadonlySet<string>;
  /** `.example.com` for the entry `*.example.com`. */
  readonly suffixes: readonly string[];
  readonly addresses: BlockList;
  readonly hasAddresses: boolean;
}

export interface UpstreamHostPolicy {
  readonly deny: HostList;
  /** When set, only hosts it names or addresses it contains are reachable. */
  readonly allow: HostList | null;
  /**
   * Private, loopback, link-local, CGNAT and other non-public addresses are
   * refused unless an address or range of `allow` contains them (a name in
   * `allow` does not lift it, so an allowed name cannot be rebound inward).
   */
  readonly denyPrivate: boolean;
}

/** Nothing to check: connections go out as they always did. */
export const isOpenPolicy = (p: UpstreamHostPolicy): boolean =>
  !p.denyPrivate && p.allow === null && p.deny.names.size === 0 && p.deny.suffixes.length === 0 && !p.deny.hasAddresses;

const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?)*$/;

/** Parses a comma-separated list; throws an Error naming the first bad entry. */
export function parseHostList(text: string | undefined): HostList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const addresses = new BlockList();
  let hasAddresses = false;
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    if (entry.includes('://')) {
      throw new Error(`'${raw.trim()}' is a URL: write its host name alone`);
    } else if (slash >= 0) {
      const ip = bare(entry.slice(0, slash));
      const bits = entry.slice(slash + 1);
      const family = isIP(ip);
      const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
      if (family === 0 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`'${raw.trim()}' is not a CIDR range such as 10.0.0.0/8 or fd00::/8`);
      addresses.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      hasAddresses = true;
    } else if (isIP(bare(entry))) {
      const ip = bare(entry);
      addresses.addAddress(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
      hasAddresses = true;
    } else if (entry.startsWith('*.') && NAME.test(entry.slice(2))) {
      suffixes.push(entry.slice(1));
    } else if (NAME.test(trimDot(entry))) {
      names.add(trimDot(entry));
    } else {
      throw new Error(`'${raw.trim()}' is not a host name, *.domain, IP address or CIDR range`);
    }
  }
  return { names, suffixes, addresses, hasAddresses };
}

export function hostPolicy(options: { deny?: string | undefined; allow?: string | undefined; denyPrivate: boolean }): UpstreamHostPolicy {
  return { deny: parseHostList(options.deny), allow: options.allow ? parseHostList(options.allow) : null, denyPrivate: options.denyPrivate };
}

/** The policy the environment sets; non-public addresses are refused by default in production only (tests and `npm start` call local emulators and models). */
export const hostPolicyOf = (config: {
  UPSTREAM_HOSTS_DENY?: string | undefined;
  UPSTREAM_HOSTS_ALLOW?: string | undefined;
  UPSTREAM_DENY_PRIVATE?: boolean | undefined;
  NODE_ENV: string;
}): UpstreamHostPolicy =>
  hostPolicy({ deny: config.UPSTREAM_HOSTS_DENY, allow: config.UPSTREAM_HOSTS_ALLOW, denyPrivate: config.UPSTREAM_DENY_PRIVATE ?? config.NODE_ENV === 'production' });

// Addresses no public API lives at. IPv4 inside IPv6 (mapped, NAT64) is
// checked as the IPv4 it carries, see canonicalAddress.
const NON_PUBLIC: ReadonlyArray<readonly [string, number, 4 | 6, string]> = [
  ['0.0.0.0', 8, 4, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 4, 'a private address'],
  ['100.64.0.0', 10, 4, 'a shared (CGNAT) address'],
  ['127.0.0.0', 8, 4, 'a loopback address'],
  ['169.254.0.0', 16, 4, 'a link-local address'],
  ['172.16.0.0', 12, 4, 'a private address'],
  ['192.0.0.0', 24, 4, 'an IETF protocol address'],
  ['192.168.0.0', 16, 4, 'a private address'],
  ['198.18.0.0', 15, 4, 'a benchmarking address'],
  ['224.0.0.0', 4, 4, 'a multicast address'],
  ['240.0.0.0', 4, 4, 'a reserved address'],
  ['::', 128, 6, 'the unspecified address'],
  ['::1', 128, 6, 'the loopback address'],
  ['::', 96, 6, 'an IPv4-compatible address'],
  ['fc00::', 7, 6, 'a unique-local address'],
  ['fe80::', 10, 6, 'a link-local address'],
  ['fec0::', 10, 6, 'a site-local address'],
  ['ff00::', 8, 6, 'a multicast address'],
];
const nonPublic = NON_PUBLIC.map(([ip, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return { family, list, label };
});

/** What kind of non-public address this is, or undefined for a public one. */
export function nonPublicRange(address: string): string | undefined {
  const a = canonicalAddress(address);
  if (!a) return 'not an IP address';
  for (const range of nonPublic) {
    if (range.family === a.family && range.list.check(a.ip, a.family === 4 ? 'ipv4' : 'ipv6')) return range.label;
  }
  return undefined;
}

/**
 * The address in one canonical form: IPv6 compressed and lower case (the URL
 * parser's serialisation), and the IPv4 carried by an IPv4-mapped
 * (`::ffff:127.0.0.1`) or NAT64 (`64:ff9b::a00:1`) address as that IPv4, so
 * no spelling of a private IPv4 passes as IPv6.
 */
export function canonicalAddress(address: string): { ip: string; family: 4 | 6 } | undefined {
  const ip = bare(address).split('%')[0]!;
  const family = isIP(ip);
  if (family === 4) return { ip, family };
  if (family !== 6) return undefined;
  let v6: string;
  try {
    v6 = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const embedded = /^(?:::ffff|64:ff9b:):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (embedded) {
    const hi = parseInt(embedded[1]!, 16);
    const lo = parseInt(embedded[2]!, 16);
    return { ip: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 4 };
  }
  return { ip: v6, family: 6 };
}

function inList(list: HostList, name: string | undefined, address: { ip: string; family: 4 | 6 } | undefined): { byName: boolean; byAddress: boolean } {
  const byName = name !== undefined && (list.names.has(name) || list.suffixes.some((s) => name.endsWith(s)));
  const byAddress = address !== undefined && list.hasAddresses && list.addresses.check(address.ip, address.family === 4 ? 'ipv4' : 'ipv6');
  return { byName, byAddress };
}

const LOOPBACK_NAME = /(?:^|\.)localhost$/;

/**
 * Why the policy refuses `host` (a URL's host name or IP literal), reached
 * at `address` when it is known; undefined when it may be reached, or, for a
 * name not yet resolved, when only its address can decide. The reason is for
 * the operator: it names the host, the address and the rule.
 */
export function hostRefusal(policy: UpstreamHostPolicy, host: string, address?: string): string | undefined {
  const name = trimDot(bare(host).toLowerCase());
  const literal = isIP(name) !== 0;
  // `localhost` is loopback by definition, whatever a resolver says.
  const known = address ?? (literal ? name : LOOPBACK_NAME.test(name) ? '127.0.0.1' : undefined);
  const addr = known === undefined ? undefined : canonicalAddress(known);
  const hostName = literal ? undefined : name;
  const shown = hostName && address ? `${hostName} (${address})` : (hostName ?? name);
  if (known !== undefined && !addr) return `${shown} is not an IP address the gateway can check`;

  const denied = inList(policy.deny, hostName, addr);
  if (denied.byName || denied.byAddress) return `${shown} is in UPSTREAM_HOSTS_DENY`;
  const allowed = policy.allow ? inList(policy.allow, hostName, addr) : { byName: false, byAddress: false };
  if (policy.allow && !allowed.byName && !allowed.byAddress && (addr !== undefined || !policy.allow.hasAddresses)) {
    return `${shown} is not in UPSTREAM_HOSTS_ALLOW`;
  }
  if (policy.denyPrivate && addr && !allowed.byAddress) {
    const range = nonPublicRange(addr.ip);
    if (range) return `${shown} is ${range}, refused by UPSTREAM_DENY_PRIVATE (allow it with its address or range in UPSTREAM_HOSTS_ALLOW)`;
  }
  return undefined;
}

const bare = (host: string): string => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
const trimDot = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name);
