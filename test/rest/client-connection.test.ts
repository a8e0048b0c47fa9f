import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { HttpClientConnection } from '../../src/rest/request-context.js';
import { hasFastProperties, haveSameMap } from '../helpers/v8-shapes.js';

const replyOf = (raw: EventEmitter & { writableFinished?: boolean }) => ({ raw }) as unknown as FastifyReply;

describe('HttpClientConnection', () => {
  it('tells listeners once when the client leaves before the response finished, and not after', () => {
    const raw = Object.assign(new EventEmitter(), { writableFinished: false });
    const client = new HttpClientConnection(replyOf(raw));
    const heard: string[] = [];
    client.onGone(() => heard.push('a'));
    const stop = client.onGone(() => heard.push('b'));
    stop();
    raw.emit('close');
    expect(client.gone).toBe(true);
    expect(heard).toEqual(['a']);
    client.onGone(() => heard.push('late'));
    expect(heard).toEqual(['a', 'late']);
  });

  it('is not gone when the connection closes after a finished response', () => {
    const raw = Object.assign(new EventEmitter(), { writableFinished: true });
    const client = new HttpClientConnection(replyOf(raw));
    raw.emit('close');
    expect(client.gone).toBe(false);
  });

  // An object literal with a getter became a dictionary-mode object per
  // request and kept each request alive through young collections (bench README).
  it('keeps one fast shape across requests', () => {
    const make = () => new HttpClientConnection(replyOf(Object.assign(new EventEmitter(), { writableFinished: false })));
    const first = make();
    for (let i = 0; i < 500; i++) make();
    const last = make();
    expect(hasFastProperties(last)).toBe(true);
    expect(haveSameMap(first, last)).toBe(true);
  });
});
