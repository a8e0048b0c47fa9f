// Closing the server ends live feeds: open SSE streams and sockets do not keep it up.
import { expect, it } from 'vitest';
import { startGateway } from '../helpers/start-gateway.js';
import { collect, wsClient } from './graphql-client.js';
import { nextSubscriber } from './subscriber-ready.js';

it('closes with an SSE subscription and a graphql-ws subscription still open', async () => {
  const gw = await startGateway();
  const sseReady = nextSubscriber(gw.gateway.bus, 'usage');
  const sse = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${gw.adminToken}` },
    body: JSON.stringify({ query: `subscription { usage { requestId } }` }),
  });
  expect(sse.status).toBe(200);
  const draining = sse.text();
  await sseReady;
  const client = wsClient(gw.url, { authorization: `Bearer ${gw.adminToken}` });
  const wsReady = nextSubscriber(gw.gateway.bus, 'usage');
  const feed = collect(client, `subscription { usage { requestId } }`);
  await wsReady;
  const started = Date.now();
  await gw.close();
  expect(Date.now() - started).toBeLessThan(5_000);
  await expect(draining).resolves.toBeTypeOf('string');
  // The server completes the subscription (or drops the socket) rather than leaving it hanging.
  await expect(feed.next(2_000)).rejects.toThrow(/completed|closed|1001|1005|1006/i);
  await client.dispose();
});
