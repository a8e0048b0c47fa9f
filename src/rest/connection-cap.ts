import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const body = JSON.stringify({
  error: { message: 'Too many open connections from this address (MAX_CONNECTIONS_PER_ADDRESS).', type: 'rate_limit_error', param: null, code: 429 },
});
const REFUSED = `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/**
 * Refuses a connection beyond `max` open ones from the same peer address
 * (the socket's, not X-Forwarded-For: behind a proxy every client shares the
 * proxy's address, so the cap stays off there). 0 is no cap.
 */
export function capConnectionsPerAddress(server: Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.write(REFUSED);
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
