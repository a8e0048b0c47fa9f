import type { Duplex } from 'node:stream';
import type { OpenAIErrorBody } from '../core/errors.js';

function rawResponse(status: number, reason: string, type: string, message: string): string {
  const body = JSON.stringify({ error: { message, type, param: null, code: status } } satisfies OpenAIErrorBody);
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const TIMED_OUT = rawResponse(
  408,
  'Request Timeout',
  'timeout_error',
  'The request was not received in time (HEADERS_TIMEOUT_SECONDS for its headers, REQUEST_TIMEOUT_SECONDS for all of it).',
);
const HEADERS_TOO_LARGE = rawResponse(431, 'Request Header Fields Too Large', 'invalid_request_error', 'The request headers are larger than the gateway accepts.');
const MALFORMED = rawResponse(400, 'Bad Request', 'invalid_request_error', 'The request is not valid HTTP/1.1.');

/**
 * Answers what Node's HTTP parser refuses before any route sees it (a client
 * too slow to send its request, headers too large, malformed HTTP) in the
 * OpenAI error shape, then closes the connection.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // An answer already under way on this connection must not get a second one written into it.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !answering) {
    socket.write(error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? TIMED_OUT : error.code === 'HPE_HEADER_OVERFLOW' ? HEADERS_TOO_LARGE : MALFORMED);
  }
  socket.destroy();
}
