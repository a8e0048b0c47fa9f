import type { SecretBox } from '../secrets/secret-box.js';

// The loop guard. Every upstream call carries a hop header listing the
// gateways the request has passed through, this one last; a request that
// arrives already carrying this deployment's mark has come back to it (a
// base URL pointing at the gateway itself, or at another gateway routing
// back), and is refused before it is authenticated or reserves any money.
//
// The mark is one per deployment, not per process: behind a load balancer a
// replica's call may come back to another replica, which must know it. It is
// derived from the encryption key, which every replica of a deployment shares
// (they read the same upstream secrets); deployments with different keys have
// different marks, so a chain of gateways still works, and a loop between
// two deployments is caught when the request comes back to the first,
// because each gateway passes on the marks it received and adds its own.

export const HOP_HEADER = 'x-gateway-hop';
/** More gateways than this in one chain is taken for a loop the marks could not show. */
export const MAX_HOPS = 8;

const MARK = /^[A-Za-z0-9_-]{1,64}$/;

/** This deployment's mark. */
export const hopMarkOf = (secrets: SecretBox): string => `gw_${secrets.derive(HOP_HEADER).slice(0, 16)}`;

/** The marks a request arrived with, oldest first; anything that is not a mark is ignored. */
export function parseHopMarks(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = typeof value === 'string' ? value : value.join(',');
  const marks: string[] = [];
  for (const part of text.split(',')) {
    const mark = part.trim();
    if (MARK.test(mark)) marks.push(mark);
  }
  return marks;
}

/** Why a request with these marks is a loop, or undefined when it is not. */
export function loopReason(marks: readonly string[], own: string): string | undefined {
  if (marks.includes(own)) {
    return 'Loop detected: this request was sent by this gateway to itself (an upstream key\u2019s base URL leads back to the gateway).';
  }
  if (marks.length >= MAX_HOPS) return `Loop detected: this request has passed through ${marks.length} gateways.`;
  return undefined;
}

/** The header value an upstream call carries: the marks received, then this deployment's. */
export const nextHopValue = (marks: readonly string[], own: string): string => (marks.length === 0 ? own : `${marks.join(', ')}, ${own}`);
