/**
 * The benchmark's OTLP/HTTP collector: accepts what a traced gateway
 * exports (POST /v1/traces) and throws it away, so the bench measures what
 * tracing costs the gateway, not what a collector costs. Counts what it
 * received and prints it on SIGTERM (`OTLP_SINK <requests> <bytes>`), so a
 * run can tell the spans did go out.
 *
 * Env: PORT (0 = any). Prints `BENCH_READY <port>` once listening.
 */
import { createServer } from 'node:http';

const PORT = Number(process.env.PORT ?? 0);
let requests = 0;
let bytes = 0;

const server = createServer((req, res) => {
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(PORT, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`BENCH_READY ${typeof address === 'object' && address ? address.port : PORT}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`OTLP_SINK ${requests} ${bytes}\n`);
  server.close();
  process.exit(0);
});
