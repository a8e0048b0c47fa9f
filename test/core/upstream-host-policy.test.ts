import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { baseUrlProblem, maskBaseUrl } from '../../src/core/routing/upstream-base-url.js';
import { hopMarkOf, loopReason, MAX_HOPS, nextHopValue, parseHopMarks } from '../../src/core/routing/upstream-hop.js';
import { canonicalAddress, hostPolicy, hostPolicyOf, hostRefusal, isOpenPolicy, nonPublicRange, parseHostList } from '../../src/core/routing/upstream-host-policy.js';
import { SecretBox } from '../../src/core/secrets/secret-box.js';
import { createUpstreamAgent, HOST_REFUSED, type ResolveAll } from '../../src/providers/http/upstream-agent.js';

describe('base URL rules', () => {
  it('refuses credentials, a query, a fragment, backslashes and controls, naming what is wrong', () => {
    expect(baseUrlProblem('https://api.example.com/v1')).toBeUndefined();
    expect(baseUrlProblem('http://127.0.0.1:8080')).toBeUndefined();
    expect(baseUrlProblem('https://user:pass@api.example.com/v1')).toMatch(/user name or password.*secret/);
    expect(baseUrlProblem('https://user@api.example.com/v1')).toMatch(/user name or password/);
    expect(baseUrlProblem('https://@api.example.com/v1')).toMatch(/user name or password/);
    expect(baseUrlProblem('https://api.example.com/v1?x=1')).toMatch(/query/);
    expect(baseUrlProblem('https://api.example.com/v1?')).toMatch(/query/);
    expect(baseUrlProblem('https://api.example.com/v1#frag')).toMatch(/fragment/);
    expect(baseUrlProblem('https://api.example.com/v1#')).toMatch(/fragment/);
    expect(baseUrlProblem('https://a.example\\@b.example/v1')).toMatch(/backslash/);
    expect(baseUrlProblem('https://api.exa\tmple.com/v1')).toMatch(/control/);
    expect(baseUrlProblem('ftp://api.example.com')).toMatch(/http\(s\) URL/);
    expect(baseUrlProblem('not a url')).toMatch(/spaces/);
    expect(baseUrlProblem('api.example.com/v1')).toMatch(/http\(s\) URL/);
  });

  it('masks what an old row may hold and leaves a clean URL as it is', () => {
    expect(maskBaseUrl(null)).toBeNull();
    expect(maskBaseUrl('https://api.example.com/v1')).toBe('https://api.example.com/v1');
    expect(maskBaseUrl('https://user:pass@api.example.com:8443/v1?key=abc#frag')).toBe('https://[redacted]@api.example.com:8443/v1?[redacted]#[redacted]');
    expect(maskBaseUrl('https://user:pass@api.example.com/v1')).not.toContain('pass');
  });
});

describe('host lists', () => {
  it('takes names, *.domain, addresses and CIDR ranges, and refuses anything else naming the entry', () => {
    const list = parseHostList(' API.example.com., *.corp.example , 10.0.0.0/8, 192.168.1.7, fd00::/8, [::1] ,');
    expect([...list.names]).toEqual(['api.example.com']);
    expect(list.suffixes).toEqual(['.corp.example']);
    expect(list.addresses.check('10.1.2.3', 'ipv4')).toBe(true);
    expect(list.addresses.check('192.168.1.7', 'ipv4')).toBe(true);
    expect(list.addresses.check('fd12::1', 'ipv6')).toBe(true);
    expect(list.addresses.check('::1', 'ipv6')).toBe(true);
    expect(() => parseHostList('10.0.0.0/33')).toThrow("'10.0.0.0/33' is not a CIDR range");
    expect(() => parseHostList('example.com/8')).toThrow('is not a CIDR range');
    expect(() => parseHostList('https://api.example.com')).toThrow("'https://api.example.com' is a URL: write its host name alone");
    expect(() => parseHostList('*')).toThrow('is not a host name');
  });

  it('stops the start on a bad entry, naming the variable; UPSTREAM_DENY_PRIVATE is true or false', () => {
    expect(() => loadConfig({ UPSTREAM_HOSTS_DENY: 'api.example.com, 300.1.1.1/8' })).toThrow(ConfigError);
    expect(() => loadConfig({ UPSTREAM_HOSTS_ALLOW: 'a b' })).toThrow(/^UPSTREAM_HOSTS_ALLOW: 'a b' is not a host name/);
    expect(() => loadConfig({ UPSTREAM_DENY_PRIVATE: 'yes' })).toThrow(/^UPSTREAM_DENY_PRIVATE: must be true or false/);
    expect(loadConfig({ UPSTREAM_DENY_PRIVATE: 'false' }).UPSTREAM_DENY_PRIVATE).toBe(false);
    expect(loadConfig({}).UPSTREAM_DENY_PRIVATE).toBeUndefined();
  });

  it('refuses non-public addresses by default in production only, unless told otherwise', () => {
    expect(hostPolicyOf(loadConfig({ NODE_ENV: 'production' })).denyPrivate).toBe(true);
    expect(hostPolicyOf(loadConfig({ NODE_ENV: 'production', UPSTREAM_DENY_PRIVATE: 'false' })).denyPrivate).toBe(false);
    expect(hostPolicyOf(loadConfig({})).denyPrivate).toBe(false);
    expect(hostPolicyOf(loadConfig({ UPSTREAM_DENY_PRIVATE: 'true' })).denyPrivate).toBe(true);
    expect(isOpenPolicy(hostPolicyOf(loadConfig({})))).toBe(true);
    expect(isOpenPolicy(hostPolicyOf(loadConfig({ UPSTREAM_HOSTS_DENY: '169.254.169.254' })))).toBe(false);
  });
});

describe('non-public addresses', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['10.20.30.40', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.0.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'],
    ['100.64.0.1', 'a shared (CGNAT) address'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['::', 'the unspecified address'],
    ['::1', 'the loopback address'],
    ['fd12:3456::1', 'a unique-local address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['0:0:0:0:0:ffff:a00:1', 'a private address'],
    ['64:ff9b::a9fe:a9fe', 'a link-local address'],
    ['::7f00:1', 'an IPv4-compatible address'],
  ])('%s is %s', (address, label) => {
    expect(nonPublicRange(address)).toBe(label);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(nonPublicRange(address)).toBeUndefined();
  });

  it('reads IPv4 inside IPv6 as that IPv4', () => {
    expect(canonicalAddress('::FFFF:192.168.0.1')).toEqual({ ip: '192.168.0.1', family: 4 });
    expect(canonicalAddress('[2001:DB8::1]')).toEqual({ ip: '2001:db8::1', family: 6 });
    expect(canonicalAddress('example.com')).toBeUndefined();
  });
});

describe('host policy', () => {
  const open = hostPolicy({ denyPrivate: false });
  const strict = hostPolicy({ denyPrivate: true });

  it('lets everything through when nothing is set', () => {
    expect(hostRefusal(open, '127.0.0.1')).toBeUndefined();
    expect(hostRefusal(open, 'internal.example', '10.0.0.1')).toBeUndefined();
  });

  it('refuses private addresses by literal, by localhost, and by the address a name resolves to', () => {
    expect(hostRefusal(strict, '10.0.0.5')).toBe('10.0.0.5 is a private address, refused by UPSTREAM_DENY_PRIVATE (allow it with its address or range in UPSTREAM_HOSTS_ALLOW)');
    expect(hostRefusal(strict, '[::ffff:127.0.0.1]')).toMatch(/loopback/);
    expect(hostRefusal(strict, 'localhost')).toMatch(/^localhost is a loopback address/);
    expect(hostRefusal(strict, 'api.localhost')).toMatch(/loopback/);
    // A name alone is undecided: it is checked again on each address it resolves to.
    expect(hostRefusal(strict, 'rebind.example')).toBeUndefined();
    expect(hostRefusal(strict, 'rebind.example', '169.254.169.254')).toMatch(/^rebind\.example \(169\.254\.169\.254\) is a link-local address/);
    expect(hostRefusal(strict, 'api.example.com', '93.184.216.34')).toBeUndefined();
  });

  it('lifts the private rule only for addresses or ranges in the allow list, never for a name', () => {
    const loopbackAllowed = hostPolicy({ denyPrivate: true, allow: '127.0.0.1/32, internal.example' });
    expect(hostRefusal(loopbackAllowed, '127.0.0.1')).toBeUndefined();
    expect(hostRefusal(loopbackAllowed, 'localhost')).toBeUndefined();
    expect(hostRefusal(loopbackAllowed, '127.0.0.2')).toMatch(/not in UPSTREAM_HOSTS_ALLOW/);
    expect(hostRefusal(loopbackAllowed, 'internal.example')).toBeUndefined();
    expect(hostRefusal(loopbackAllowed, 'internal.example', '10.0.0.9')).toMatch(/private address, refused by UPSTREAM_DENY_PRIVATE/);
    expect(hostRefusal(loopbackAllowed, 'internal.example', '127.0.0.1')).toBeUndefined();
  });

  it('calls only what the allow list names, and never what the deny list names', () => {
    const policy = hostPolicy({ denyPrivate: false, allow: 'api.openai.com, *.openai.azure.com, 203.0.113.0/24', deny: 'bad.openai.azure.com, 203.0.113.66' });
    expect(hostRefusal(policy, 'api.openai.com')).toBeUndefined();
    expect(hostRefusal(policy, 'API.OpenAI.com.')).toBeUndefined();
    expect(hostRefusal(policy, 'east.openai.azure.com', '20.1.2.3')).toBeUndefined();
    expect(hostRefusal(policy, 'openai.azure.com', '20.1.2.3')).toMatch(/not in UPSTREAM_HOSTS_ALLOW/);
    expect(hostRefusal(policy, 'bad.openai.azure.com')).toBe('bad.openai.azure.com is in UPSTREAM_HOSTS_DENY');
    expect(hostRefusal(policy, 'api.other.com', '203.0.113.5')).toBeUndefined();
    expect(hostRefusal(policy, 'api.other.com', '203.0.113.66')).toMatch(/in UPSTREAM_HOSTS_DENY/);
    expect(hostRefusal(policy, 'api.other.com', '198.51.100.1')).toMatch(/not in UPSTREAM_HOSTS_ALLOW/);
    // Saved by name with address ranges in the list: only the connection can tell.
    expect(hostRefusal(policy, 'api.other.com')).toBeUndefined();
    expect(hostRefusal(hostPolicy({ denyPrivate: false, allow: 'api.openai.com' }), 'api.other.com')).toBe('api.other.com is not in UPSTREAM_HOSTS_ALLOW');
  });
});

describe('loop marks', () => {
  it('are one per encryption key: the same on every replica, different between deployments', () => {
    const key = randomBytes(32).toString('hex');
    const a = hopMarkOf(SecretBox.fromString(key));
    expect(a).toMatch(/^gw_[A-Za-z0-9_-]{16}$/);
    expect(hopMarkOf(SecretBox.fromString(key))).toBe(a);
    expect(hopMarkOf(SecretBox.fromString(randomBytes(32).toString('hex')))).not.toBe(a);
    expect(a).not.toContain(key.slice(0, 8));
  });

  it('find our own mark among the ones received, and pass the others on before ours', () => {
    const marks = parseHopMarks('gw_other, not a mark!, gw_ours');
    expect(marks).toEqual(['gw_other', 'gw_ours']);
    expect(loopReason(marks, 'gw_ours')).toMatch(/^Loop detected/);
    expect(loopReason(marks, 'gw_third')).toBeUndefined();
    expect(nextHopValue(['gw_other'], 'gw_third')).toBe('gw_other, gw_third');
    expect(nextHopValue([], 'gw_third')).toBe('gw_third');
    const long = Array.from({ length: MAX_HOPS }, (_, i) => `gw_${i}`);
    expect(loopReason(long, 'gw_ours')).toMatch(/passed through 8 gateways/);
  });
});

describe('the upstream agent checks the address it connects to', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A resolver answering each lookup with the next address in `answers` (what a rebinding DNS server does). */
  const resolver = (answers: string[]): { resolve: ResolveAll; asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      resolve: (hostname, _options, callback) => {
        asked.push(hostname);
        const address = answers[Math.min(asked.length - 1, answers.length - 1)]!;
        callback(null, [{ address, family: 4 }]);
      },
    };
  };

  async function get(agent: ReturnType<typeof createUpstreamAgent>, origin: string) {
    try {
      const res = await agent.request({ origin, path: '/', method: 'GET', reset: true });
      await res.body.text();
      return res.statusCode;
    } catch (e) {
      return (e as { code?: string }).code;
    }
  }

  it('refuses a name that resolves to a refused address, at connect time, after it once resolved to an allowed one', async () => {
    // The name is allowed, and so is 127.0.0.1; a name never lifts the private rule.
    const policy = hostPolicy({ denyPrivate: true, allow: '127.0.0.1/32, upstream.test' });
    const refused: string[] = [];
    // First answer allowed (127.0.0.1 is in the allow list), then the same name answers a private address.
    const dns = resolver(['127.0.0.1', '10.0.0.7']);
    const agent = createUpstreamAgent({ check: (h, a) => hostRefusal(policy, h, a), onRefused: (r) => refused.push(r), resolve: dns.resolve });
    const before = hits;
    expect(await get(agent, `http://upstream.test:${port}`)).toBe(200);
    expect(await get(agent, `http://upstream.test:${port}`)).toBe(HOST_REFUSED);
    expect(dns.asked).toEqual(['upstream.test', 'upstream.test']);
    expect(hits - before).toBe(1);
    expect(refused).toEqual(['upstream.test (10.0.0.7) is a private address, refused by UPSTREAM_DENY_PRIVATE (allow it with its address or range in UPSTREAM_HOSTS_ALLOW)']);
    await agent.close();
  });

  it('refuses an IP literal before connecting, since no lookup happens for one', async () => {
    const policy = hostPolicy({ denyPrivate: true });
    const dns = resolver(['127.0.0.1']);
    const agent = createUpstreamAgent({ check: (h, a) => hostRefusal(policy, h, a), onRefused: () => {}, resolve: dns.resolve });
    const before = hits;
    expect(await get(agent, `http://127.0.0.1:${port}`)).toBe(HOST_REFUSED);
    expect(await get(agent, `http://[::ffff:127.0.0.1]:${port}`)).toBe(HOST_REFUSED);
    expect(hits).toBe(before);
    expect(dns.asked).toEqual([]);
    await agent.close();
  });
});
