// The one interface every upstream adapter implements (openai, anthropic,
// gemini, mock). Adapters translate an OpenAI-shaped request into their
// provider's wire format, send it with one upstream key, and give back
// OpenAI-shaped results or a classified ProviderError.
import type { ChatRequest } from './chat-request.js';
import type { EmbeddingRequest } from './embedding-request.js';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse } from './openai-shapes.js';
import type { CancelSignal } from './cancel-signal.js';
import type { ProviderInfo } from './provider-info.js';
import type { Dispatcher } from 'undici';

export interface UpstreamTarget {
  /** Upstream key id (`upk_…`), or `mock` for test mode. */
  keyId: string;
  provider: string;
  /** Base URL as the provider's official SDK takes it. */
  baseUrl: string;
  apiKey: string;
  upstreamModel: string;
}

export interface CallContext {
  target: UpstreamTarget;
  /** Aborted on client disconnect or when the request's deadline passes. */
  signal: CancelSignal;
  /** The gateway's request id, forwarded for correlation. */
  requestId: string;
  /** Request headers the client sent that an adapter may honour (the mock's fault triggers). */
  hints?: Record<string, string | undefined>;
  /** How the call leaves the gateway; absent, the shared pool with no host policy and no hop mark. */
  transport?: UpstreamTransport;
  /** The catalogue's vector size for embedding models, when the request sets no `dimensions`. */
  defaultDimensions?: number;
  /**
   * Chat: the per-choice output cap the gateway reserved for. It is the only
   * cap sent upstream, in the provider's own field, whatever the request's
   * max_tokens / max_completion_tokens said.
   */
  maxOutputTokens?: number;
}

export interface UpstreamTransport {
  /** The connection pool (undici) whose connector applies the upstream host policy. */
  readonly agent: Dispatcher;
  /** Headers every call carries: the hop mark of the loop guard. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ChatStream {
  /**
   * OpenAI chunks in batches: the chunks that arrived together (one upstream
   * read often carries dozens), never an empty batch, so everything after the
   * adapter pays per read rather than per chunk. Usage (when known) on the
   * last chunk. Throws ProviderError mid-stream.
   */
  chunks: AsyncIterable<ChatCompletionChunk[]>;
}

export interface ProviderAdapter {
  /** Who this adapter is (id, default base URL, seeding variable…), declared once beside it. */
  readonly info: ProviderInfo;
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion>;
  /** Resolves once the upstream accepted the call (status known), so pre-stream errors can fail over. */
  chatStream(req: ChatRequest, ctx: CallContext): Promise<ChatStream>;
  embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /** The prompt's input tokens as the upstream itself counts them, where it offers a count (Anthropic's count_tokens). */
  countTokens?(req: ChatRequest, ctx: CallContext): Promise<number>;
}

export type ProviderErrorClass =
  /** Try another key: connect errors, timeouts, 408/409/429/5xx/529. */
  | 'retryable'
  /** The key itself is bad: disable it and try another (401/403, Gemini API_KEY_INVALID). */
  | 'key_fatal'
  /** The client's request is wrong; another key would fail the same way. */
  | 'client'
  /** The upstream answered something the gateway cannot use. */
  | 'bad_response';

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly errorClass: ProviderErrorClass,
    readonly upstreamStatus: number | undefined,
    /** From retry-after / RetryInfo, in milliseconds. */
    readonly retryAfterMs?: number,
    /** Status the client should see if this error is final. */
    readonly clientStatus?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
