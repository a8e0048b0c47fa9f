import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type ExportResponse, type IExporterTransport, OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import type { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { Agent, type Dispatcher, RetryAgent, request } from 'undici';

// How the OTLP exporter's requests travel: over undici, the HTTP client
// the gateway already runs for every upstream call, instead of the SDK's
// node:http transport. With node:http's client in the process, every
// process.nextTick (Node's streams call it ~17 times per request) cost
// about seven times as much, ~10 µs of CPU per request in the gateway's
// profile, gone with this transport (docs/observability.md).
// The exporter around it is the SDK's: OTLPExporterBase, its delegate's
// concurrency limit and timeout, the serializer; what the SDK's transport
// does besides sending is done here the same way: its headers (with
// OTEL_EXPORTER_OTLP_HEADERS), gzip when OTEL_EXPORTER_OTLP_COMPRESSION
// asks, the certificates OTEL_EXPORTER_OTLP_*CERTIFICATE name, the
// response read up to 4 MB, and retries of 429, 502, 503, 504 and network
// errors with growing pauses (Retry-After when the collector sends one),
// within the export timeout, by undici's RetryAgent.

const gzipped = promisify(gzip);

/** The SDK transport's limit on a collector's answer. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The SDK's retry schedule: five retries, 1 s then ×1.5 each, at most 5 s apart. */
const RETRIES = { maxRetries: 5, minTimeout: 1000, timeoutFactor: 1.5, maxTimeout: 5000, retryAfter: true, methods: ['POST' as const], statusCodes: [429, 502, 503, 504] };

const USER_AGENT = 'OTel-OTLP-Exporter-JavaScript (llm-gateway, undici)';

/** The exporter's configuration, as the SDK reads it from its options and the environment. */
type OtlpNodeHttpConfiguration = ReturnType<typeof convertLegacyHttpOptions>;

export class OtlpUndiciTransport implements IExporterTransport {
  #dispatcher: Promise<Dispatcher> | undefined;

  constructor(
    private readonly options: OtlpNodeHttpConfiguration,
    /** The pauses between retries (tests shorten them). */
    private readonly retries: Partial<typeof RETRIES> = {},
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    try {
      const { options } = this;
      const compress = options.compression === 'gzip';
      const headers: Record<string, string> = { 'user-agent': options.userAgent ? `${options.userAgent} ${USER_AGENT}` : USER_AGENT, ...(await options.headers()) };
      if (compress) headers['content-encoding'] = 'gzip';
      const response = await request(options.url, {
        method: 'POST',
        headers,
        body: compress ? await gzipped(data) : data,
        dispatcher: await this.#dispatch(),
        signal: AbortSignal.timeout(timeoutMillis),
      });
      const body = await readCapped(response.body);
      if (body === undefined) return { status: 'failure', error: new OTLPExporterError(`OTLP export response body exceeded size limit of ${MAX_RESPONSE_BYTES} bytes`) };
      if (response.statusCode <= 299) return { status: 'success', data: body };
      return { status: 'failure', error: new OTLPExporterError(`OTLP export refused: HTTP ${response.statusCode}`, response.statusCode, Buffer.from(body).toString('utf8')) };
    } catch (error) {
      // What undici's RetryAgent gave up on (a status or a network error after its retries), or the timeout.
      const statusCode = (error as { statusCode?: unknown }).statusCode;
      return { status: 'failure', error: typeof statusCode === 'number' ? new OTLPExporterError(`OTLP export failed: HTTP ${statusCode}`, statusCode) : (error as Error) };
    }
  }

  shutdown(): void {
    void this.#dispatcher?.then((dispatcher) => dispatcher.close());
  }

  /** The agent for the collector, with the certificates the environment names (read by the SDK's configuration into its node:https agent options). */
  #dispatch(): Promise<Dispatcher> {
    this.#dispatcher ??= (async () => {
      const tls = this.options.url.startsWith('https:') ? ((await this.options.agentFactory('https:')) as { options?: { ca?: unknown; cert?: unknown; key?: unknown } }).options : undefined;
      const connect = tls ? { ca: tls.ca as string | undefined, cert: tls.cert as string | undefined, key: tls.key as string | undefined } : undefined;
      return new RetryAgent(new Agent({ connect, keepAliveTimeout: 30_000 }), { ...RETRIES, ...this.retries });
    })();
    return this.#dispatcher;
  }
}

/** A response body's bytes, or undefined past MAX_RESPONSE_BYTES (the connection is then let go). */
async function readCapped(body: AsyncIterable<Uint8Array> & { destroy(): unknown }): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
