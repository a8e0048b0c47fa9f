/**
 * Shared machinery for the upstream emulators: fault/script types, the fault
 * queue, request recording, abort tracking and an SSE writer that applies the
 * stream faults. Each provider file only supplies its wire format.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Fault {
  /** Answer with this HTTP status and the provider's real error body shape. */
  status?: number;
  /** Seconds: `retry-after` header (Gemini: also a RetryInfo detail). Without `status` it implies 429. */
  retryAfter?: number;
  /** Wait before sending response headers. */
  latencyMs?: number;
  /** Streams: after headers, wait before the first event. */
  firstByteDelayMs?: number;
  /** Streams: wait between consecutive events (extension, for idle-timeout / mid-stream abort tests). */
  eventDelayMs?: number;
  /**
   * Streams: destroy the socket after N events (no clean end).
   * Non-stream (extension): send the headers and half of the JSON body, then destroy the socket.
   */
  cutAfterEvents?: number;
  /**
   * Streams: after N events send a frame whose data is not valid JSON, then end.
   * Non-stream (extension): the JSON body is truncated (status 200, clean end).
   */
  malformedAfterEvents?: number;
  /** Streams: after N events send the provider's in-stream error, then end. */
  errorEventAfterEvents?: number;
  /** Accept the request and never answer (released when the client aborts or on close()). */
  hang?: boolean;
  /** Error message text (status errors and error events). */
  message?: string;
  /**
   * Extension: override the provider's error code for `status`
   * (OpenAI `error.code`, e.g. `insufficient_quota`; Anthropic `error.type`; Gemini `error.status`).
   */
  code?: string;
}

export interface Script {
  /** Default `Hello from the <provider> emulator.` (none when `toolCalls` are scripted and `text` is unset). */
  text?: string;
  /** reasoning_content (openai) / thinking block (anthropic) / thought part (gemini). */
  reasoning?: string;
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
  /** Default `tool_calls` when toolCalls are scripted, else `stop`. */
  finishReason?: 'stop' | 'length' | 'tool_calls';
  /**
   * `input` = all prompt tokens including `cached` (cache reads) and `cacheWrite` / `cacheWrite1h`
   * (cache writes at the 5-minute / 1-hour TTL, reported by Anthropic only);
   * `output` = all completion tokens including `reasoning`.
   * Default: ceil(chars/4) of the request's text / the scripted output.
   */
  usage?: { input: number; output: number; cached?: number; cacheWrite?: number; cacheWrite1h?: number; reasoning?: number };
  /** How many content deltas to split text (and reasoning) into when streaming (default 3). */
  chunks?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: any;
}

export interface Emulator {
  /** Base URL as the provider's official SDK takes it. */
  url: string;
  /** Every request received, parsed JSON body. */
  requests: RecordedRequest[];
  /** Applied to the next requests, one per request, in order. */
  enqueue(...faults: Fault[]): void;
  /** Applied to every request when the queue is empty. */
  setDefault(fault: Fault | undefined): void;
  setScript(script: Script): void;
  /** Resolves when `n` requests in total have been received. */
  waitForRequests(n: number): Promise<void>;
  /** Count of requests aborted by the client before the response ended. */
  aborted(): number;
  /** Extension: resolves when `aborted()` reaches `n`. */
  waitForAborts(n: number): Promise<void>;
  /** Extension: forget recorded requests, queued faults, default fault and script (abort count kept). */
  reset(): void;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** When given, any other key gets the provider's real auth error. */
  validKeys?: string[];
  /** Extension: when given, other models get the provider's real "model not found" error. */
  models?: string[];
  /** The port to listen on; a free one when unset. */
  port?: number;
}

// ---------------------------------------------------------------------------
// Small helpers shared by the providers

export const tokens = (chars: number): number => Math.ceil(chars / 4);

/** Split `text` into at most `n` non-empty pieces (whole text when n <= 1). */
export function splitText(text: string, n: number): string[] {
  if (text.length === 0) return [];
  const count = Math.max(1, Math.min(Math.floor(n), text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const NON_TEXT_KEYS = new Set([
  'role', 'type', 'id', 'tool_call_id', 'tool_use_id', 'detail', 'cache_control', 'signature',
  'data', 'url', 'image_url', 'input_audio', 'source', 'inlineData', 'fileData', 'mimeType', 'media_type',
  'thoughtSignature',
]);

/** Collect the text strings of a prompt (message contents, tool arguments...; not roles, ids or blobs). */
export function collectText(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectText(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (NON_TEXT_KEYS.has(k)) continue;
      collectText(v, out);
    }
  }
  return out;
}

export interface ResolvedScript {
  text: string;
  reasoning: string;
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>;
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: { input: number; output: number; cached: number; cacheWrite: number; cacheWrite1h: number; reasoning: number };
  chunks: number;
}

/** Fill the script's defaults. `promptText` is the request's text used for the default input count. */
export function resolveScript(script: Script, provider: string, promptText: string): ResolvedScript {
  const toolCalls = script.toolCalls ?? [];
  const text = script.text ?? (toolCalls.length > 0 ? '' : `Hello from the ${provider} emulator.`);
  const reasoning = script.reasoning ?? '';
  const argsChars = toolCalls.reduce((n, c) => n + c.name.length + JSON.stringify(c.arguments).length, 0);
  const reasoningTokens = script.usage?.reasoning ?? (reasoning ? tokens(reasoning.length) : 0);
  const output = script.usage?.output ?? Math.max(1, tokens(text.length + argsChars) + reasoningTokens);
  const input = script.usage?.input ?? Math.max(1, tokens(promptText.length));
  // Reads and writes are parts of input: each is capped by what the others left.
  const cached = Math.min(script.usage?.cached ?? 0, input);
  const cacheWrite = Math.min(script.usage?.cacheWrite ?? 0, input - cached);
  const cacheWrite1h = Math.min(script.usage?.cacheWrite1h ?? 0, input - cached - cacheWrite);
  return {
    text,
    reasoning,
    toolCalls,
    finishReason: script.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      input,
      output,
      cached,
      cacheWrite,
      cacheWrite1h,
      reasoning: Math.min(reasoningTokens, output),
    },
    chunks: Math.max(1, script.chunks ?? 3),
  };
}

/** Deterministic unit vector derived from `seed` (same input, same vector). */
export function embeddingFor(seed: string, dims: number): number[] {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  let state = h || 1;
  const next = () => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0xffffffff - 0.5;
  };
  const v = Array.from({ length: dims }, next);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => Math.fround(x / norm));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

// ---------------------------------------------------------------------------
// The fault queue

export class FaultQueue {
  private queue: Fault[] = [];
  private fallback: Fault | undefined;

  enqueue(...faults: Fault[]): void {
    this.queue.push(...faults);
  }

  setDefault(fault: Fault | undefined): void {
    this.fallback = fault;
  }

  /** The fault for the next request (queue first, then the default, else no fault). */
  next(): Fault {
    return this.queue.shift() ?? this.fallback ?? {};
  }

  clear(): void {
    this.queue = [];
    this.fallback = undefined;
  }
}

/** True when the fault asks for an error status instead of an answer. */
export function errorStatusOf(fault: Fault): number | undefined {
  if (fault.status !== undefined) return fault.status;
  if (fault.retryAfter !== undefined) return 429;
  return undefined;
}

// ---------------------------------------------------------------------------
// The per-request exchange handed to a provider

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface SseOptions {
  headers?: Record<string, string>;
  /** Frame sent for `errorEventAfterEvents`. */
  errorFrame: string;
  /** Frame sent for `malformedAfterEvents` (its data must not parse as JSON). */
  malformedFrame: string;
  /** Written after the events on a clean end, not counted as an event (OpenAI `data: [DONE]`). */
  terminator?: string;
}

export class Exchange {
  /** Set when the response's connection closed before the response ended. */
  closed = false;
  /** Set when the emulator itself destroyed the connection (cut fault, close()). */
  selfDestroyed = false;
  readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly record: RecordedRequest,
    readonly url: URL,
    public fault: Fault,
    public script: Script,
    readonly options: EmulatorOptions,
    readonly requestId: string,
  ) {
    this.closedPromise = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  /** @internal called by the harness when `res` closes. */
  onClose(): void {
    this.closed = true;
    this.markClosed();
  }

  get body(): any {
    return this.record.body;
  }

  /** Sleep that ends early when the connection closes. Resolves true if still open. */
  async wait(ms: number | undefined): Promise<boolean> {
    if (ms && ms > 0 && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => {
          timer = setTimeout(r, ms);
        }),
        this.closedPromise,
      ]);
      clearTimeout(timer);
    }
    return !this.closed;
  }

  /** Write and wait until it is flushed (or the connection is gone). */
  write(chunk: string): Promise<void> {
    if (this.closed || this.res.destroyed) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => {
        this.res.write(chunk, () => resolve());
      }),
      this.closedPromise,
    ]);
  }

  /** Destroy the connection without a clean end. */
  cut(): void {
    this.selfDestroyed = true;
    (this.res.socket ?? this.req.socket).destroy();
  }

  /** Non-stream JSON answer. Applies the non-stream variants of cut / malformed faults. */
  async json(status: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
    if (this.closed) return;
    let text = JSON.stringify(body);
    const okAnswer = status < 400;
    if (okAnswer && this.fault.malformedAfterEvents !== undefined) {
      text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    }
    if (okAnswer && this.fault.cutAfterEvents !== undefined) {
      this.res.writeHead(status, { 'content-type': 'application/json', ...headers });
      await this.write(text.slice(0, Math.floor(text.length / 2)));
      this.cut();
      return;
    }
    this.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    this.res.end(text);
  }

  /** Stream `frames` (pre-formatted SSE frames, one per event), applying the stream faults. */
  async sse(frames: string[], opts: SseOptions): Promise<void> {
    if (this.closed) return;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...opts.headers,
    });
    this.res.flushHeaders();
    if (!(await this.wait(this.fault.firstByteDelayMs))) return;
    const f = this.fault;
    for (let i = 0; ; i++) {
      if (this.closed) return;
      if (f.cutAfterEvents !== undefined && i >= f.cutAfterEvents) {
        this.cut();
        return;
      }
      if (f.malformedAfterEvents !== undefined && i >= f.malformedAfterEvents) {
        await this.write(opts.malformedFrame);
        this.res.end();
        return;
      }
      if (f.errorEventAfterEvents !== undefined && i >= f.errorEventAfterEvents) {
        await this.write(opts.errorFrame);
        this.res.end();
        return;
      }
      const frame = frames[i];
      if (frame === undefined) break;
      if (i > 0 && !(await this.wait(f.eventDelayMs))) return;
      await this.write(frame);
    }
    if (this.closed) return;
    if (opts.terminator) await this.write(opts.terminator);
    this.res.end();
  }
}

// ---------------------------------------------------------------------------
// The server harness

export interface ProviderHandler {
  /** Human name used in default texts ("openai", "anthropic", "gemini"). */
  name: string;
  /** Path prefix appended to the origin for `Emulator.url` ('' or '/v1'). */
  urlSuffix: string;
  /** Reply for an unparsable JSON body. */
  invalidJson(ex: Exchange): ErrorReply;
  /** Auth check; return an error reply to refuse. */
  authenticate(ex: Exchange): ErrorReply | undefined;
  /** The error reply for a fault's status. */
  faultError(ex: Exchange, status: number): ErrorReply;
  /** Serve the request normally. */
  handle(ex: Exchange): Promise<void>;
}

let requestCounter = 0;

export function nextRequestId(): string {
  requestCounter++;
  return `${Date.now().toString(36)}${requestCounter.toString(36).padStart(6, '0')}`;
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startEmulator(provider: ProviderHandler, options: EmulatorOptions = {}): Promise<Emulator> {
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue();
  let script: Script = {};
  let abortedCount = 0;
  let closing = false;
  const sockets = new Set<Socket>();
  const exchanges = new Set<Exchange>();
  let requestWaiters: Array<{ n: number; resolve: () => void }> = [];
  let abortWaiters: Array<{ n: number; resolve: () => void }> = [];

  const notify = () => {
    requestWaiters = requestWaiters.filter((w) => {
      if (requests.length < w.n) return true;
      w.resolve();
      return false;
    });
    abortWaiters = abortWaiters.filter((w) => {
      if (abortedCount < w.n) return true;
      w.resolve();
      return false;
    });
  };

  const send = (ex: Exchange, reply: ErrorReply) => ex.json(reply.status, reply.body, reply.headers);

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams.entries()),
        headers: flattenHeaders(req),
        body: undefined,
      };
      const ex = new Exchange(req, res, record, url, {}, script, options, nextRequestId());
      exchanges.add(ex);
      res.on('close', () => {
        exchanges.delete(ex);
        const early = !res.writableFinished;
        ex.onClose();
        if (early && !ex.selfDestroyed && !closing) {
          abortedCount++;
          notify();
        }
      });

      let raw: string;
      try {
        raw = await readBody(req);
      } catch {
        return; // client went away while sending
      }
      let bodyOk = true;
      if (raw.length > 0) {
        try {
          record.body = JSON.parse(raw);
        } catch {
          record.body = raw;
          bodyOk = false;
        }
      }
      requests.push(record);
      const fault = faults.next();
      ex.fault = fault;
      ex.script = script;
      notify();

      if (!(await ex.wait(fault.latencyMs))) return;
      if (fault.hang) return; // released by the client's abort or close()
      if (!bodyOk) return send(ex, provider.invalidJson(ex));
      const authError = provider.authenticate(ex);
      if (authError) return send(ex, authError);
      const status = errorStatusOf(fault);
      if (status !== undefined && status >= 400) return send(ex, provider.faultError(ex, status));
      await provider.handle(ex);
    })().catch((err: unknown) => {
      // A bug in an emulator must not hang the test: answer 500 plainly.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator failure: ${String(err)}`);
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${provider.urlSuffix}`,
    requests,
    enqueue: (...f) => faults.enqueue(...f),
    setDefault: (f) => faults.setDefault(f),
    setScript: (s) => {
      script = s;
    },
    waitForRequests: (n) =>
      new Promise<void>((resolve) => {
        requestWaiters.push({ n, resolve });
        notify();
      }),
    aborted: () => abortedCount,
    waitForAborts: (n) =>
      new Promise<void>((resolve) => {
        abortWaiters.push({ n, resolve });
        notify();
      }),
    reset: () => {
      requests.length = 0;
      faults.clear();
      script = {};
    },
    close: async () => {
      if (closing) return;
      closing = true;
      for (const ex of exchanges) ex.selfDestroyed = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
