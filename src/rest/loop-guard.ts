import type { onRequestHookHandler } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { Gateway } from '../core/gateway.js';
import { HOP_HEADER, loopReason, parseHopMarks } from '../core/routing/upstream-hop.js';

/**
 * Refuses, with 508 Loop Detected, a request that carries this deployment's
 * hop mark: one of its own upstream calls has come back to it. It runs before
 * authentication and body parsing, so the looped call costs nothing and
 * reserves nothing; the calling request sees the 508 as its upstream's answer.
 */
export function loopGuard(gateway: Gateway): onRequestHookHandler {
  return (request, reply, done) => {
    const marks = request.headers[HOP_HEADER];
    if (marks === undefined) return done();
    const reason = loopReason(parseHopMarks(marks), gateway.hopMark);
    if (reason === undefined) return done();
    void reply.status(508).send(new GatewayError('loop_detected', reason).toBody());
  };
}
