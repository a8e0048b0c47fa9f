import { sleep } from '../../contract/cancel-signal.js';
import type { ChatRequest } from '../../contract/chat-request.js';
import { requestedMaxTokens } from '../../contract/chat-request.js';
import { embeddingInputs, type EmbeddingRequest } from '../../contract/embedding-request.js';
import { countPromptTokensExact, countTextTokens, countTextsTokensExact } from '../../tokens/count-tokens.js';
import type { ChatCompletion, ChatCompletionChunk, EmbeddingResponse, FinishReason } from '../../contract/openai-shapes.js';
import { makeUsage } from '../../contract/openai-shapes.js';
import { type CallContext, type ChatStream, type ProviderAdapter, ProviderError } from '../../contract/provider.js';
import type { ProviderInfo } from '../../contract/provider-info.js';
import { mockEmbedding } from './mock-embedding.js';
import { mockReplyText, mockToolCall, mockToolToCall } from './mock-reply.js';
import { MOCK_SCENARIO_HEADER, type MockScenario, parseMockScenario } from './mock-scenario.js';
import { decode, encode } from '../../tokens/o200k.js';

const STREAM_PIECES = 5;
const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
/** How long the `timeout` scenario waits when the request gave no `timeout` of its own. */
const MOCK_TIMEOUT_MS = 1000;

const scenarioErrors: Partial<Record<MockScenario, { status: number; message: string; retryAfterMs?: number }>> = {
  'error-400': { status: 400, message: 'Test mode: simulated invalid request (X-Mock-Scenario: error-400).' },
  'error-401': { status: 401, message: 'Test mode: simulated authentication failure (X-Mock-Scenario: error-401).' },
  'error-402': { status: 402, message: 'Test mode: simulated insufficient balance (X-Mock-Scenario: error-402).' },
  'error-403': { status: 403, message: 'Test mode: simulated permission error (X-Mock-Scenario: error-403).' },
  'error-429': {
    status: 429,
    message: 'Test mode: simulated rate limit (X-Mock-Scenario: error-429).',
    retryAfterMs: 1000,
  },
  'error-500': { status: 500, message: 'Test mode: simulated internal error (X-Mock-Scenario: error-500).' },
  'error-503': { status: 503, message: 'Test mode: simulated unavailable upstream (X-Mock-Scenario: error-503).' },
};

interface MockAnswer {
  text: string;
  finishReason: FinishReason;
  toolCall?: ReturnType<typeof mockToolCall>;
  promptTokens: number;
  completionTokens: number;
}

/** Test mode's provider: answers in-process with OpenAI's shapes, never touches the network. */
export class MockAdapter implements ProviderAdapter {
  // Not in the registry: test keys reach it whatever the route names, and no upstream key is ever added for it.
  readonly info: ProviderInfo = { id: 'mock', displayName: 'Test mode', defaultBaseUrl: undefined, seedEnv: undefined, capabilities: { embeddings: true } };

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
    await this.#applyScenario(req, ctx, false);
    const counted = countPromptTokensExact(req.messages, req.tools);
    const answer = this.#answer(req, typeof counted === 'number' ? counted : await counted);
    const created = Math.floor(Date.now() / 1000);
    const n = req.n ?? 1;
    return {
      id: `chatcmpl-${ctx.requestId}`,
      object: 'chat.completion',
      created,
      model: req.model,
      // `n` identical choices: the mock is deterministic, and each is counted.
      choices: Array.from({ length: n }, (_, index) => ({
        index,
        message: {
          role: 'assistant' as const,
          content: answer.toolCall ? null : answer.text,
          refusal: null,
          ...(answer.toolCall ? { tool_calls: [answer.toolCall] } : {}),
        },
        logprobs: null,
        finish_reason: answer.finishReason,
      })),
      usage: makeUsage(answer.promptTokens, answer.completionTokens * n),
      system_fingerprint: 'fp_gateway_mock',
    };
  }

  async chatStream(req: ChatRequest, ctx: CallContext): Promise<ChatStream> {
    const scenario = await this.#applyScenario(req, ctx, true);
    const counted = countPromptTokensExact(req.messages, req.tools);
    const answer = this.#answer(req, typeof counted === 'number' ? counted : await counted);
    return { chunks: this.#chunks(req, ctx, answer, scenario === 'stream-break') };
  }

  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    await this.#applyScenario(undefined, ctx, false);
    const inputs = embeddingInputs(req);
    const dimensions = req.dimensions ?? ctx.defaultDimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
    const counted = countTextsTokensExact(inputs);
    const promptTokens = typeof counted === 'number' ? counted : await counted;
    return {
      object: 'list',
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: mockEmbedding(req.model, text, dimensions),
      })),
      model: req.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }

  /** promptTokens: counted by the caller, on a worker thread when the prompt is large. */
  #answer(req: ChatRequest, promptTokens: number): MockAnswer {
    const tool = mockToolToCall(req);
    if (tool) {
      const toolCall = mockToolCall(tool, req);
      const completionTokens = countTextTokens(toolCall.function.name) + countTextTokens(toolCall.function.arguments);
      return { text: '', finishReason: 'tool_calls', toolCall, promptTokens, completionTokens };
    }
    let tokens = encode(mockReplyText(req));
    const max = requestedMaxTokens(req);
    let finishReason: FinishReason = 'stop';
    if (max !== undefined && tokens.length > max) {
      tokens = tokens.slice(0, max);
      finishReason = 'length';
    }
    return { text: decode(tokens), finishReason, promptTokens, completionTokens: tokens.length };
  }

  async *#chunks(
    req: ChatRequest,
    ctx: CallContext,
    answer: MockAnswer,
    breakMidway: boolean,
  ): AsyncGenerator<ChatCompletionChunk[]> {
    // The mock paces its chunks like a slow upstream, so each arrives alone in its batch.
    const id = `chatcmpl-${ctx.requestId}`;
    const created = Math.floor(Date.now() / 1000);
    const { model } = req;
    // Each chunk one literal, not { ...base, choices }: keys added after a leading spread give every chunk a hidden class of its own (docs/design.md).
    const object = 'chat.completion.chunk' as const;
    const n = req.n ?? 1;
    // One chunk per choice at each step, as OpenAI interleaves the choices of `n`.
    const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null = null): ChatCompletionChunk[] =>
      Array.from({ length: n }, (_, index) => ({ id, object, created, model, choices: [{ index, delta, logprobs: null, finish_reason: finish }] }));
    yield chunk({ role: 'assistant', content: '' });
    if (answer.toolCall) {
      const { id, function: fn } = answer.toolCall;
      yield chunk({ tool_calls: [{ index: 0, id, type: 'function', function: { name: fn.name, arguments: '' } }] });
      const half = Math.ceil(fn.arguments.length / 2);
      for (const piece of [fn.arguments.slice(0, half), fn.arguments.slice(half)]) {
        if (piece) yield chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
      }
    } else {
      const pieces = splitText(answer.text, STREAM_PIECES);
      for (const [i, piece] of pieces.entries()) {
        if (breakMidway && i === 2) {
          throw new ProviderError('Test mode: simulated stream break (X-Mock-Scenario: stream-break).', 'retryable', 500, undefined, 500);
        }
        // Yield to the event loop so a client abort can land between pieces.
        await sleep(0, ctx.signal);
        yield chunk({ content: piece });
      }
    }
    yield chunk({}, answer.finishReason);
    yield [{ id, object, created, model, choices: [], usage: makeUsage(answer.promptTokens, answer.completionTokens * n) }];
  }

  async #applyScenario(req: ChatRequest | undefined, ctx: CallContext, streaming: boolean): Promise<MockScenario | undefined> {
    const scenario = parseMockScenario(ctx.hints?.[MOCK_SCENARIO_HEADER]);
    if (!scenario) return undefined;
    const failure = scenarioErrors[scenario];
    if (failure) {
      throw new ProviderError(failure.message, 'client', failure.status, failure.retryAfterMs, failure.status);
    }
    if (scenario === 'timeout') {
      const waitMs = req?.timeout ? req.timeout * 1000 + 1000 : MOCK_TIMEOUT_MS;
      await sleep(waitMs, ctx.signal);
      throw new ProviderError('Test mode: simulated upstream timeout (X-Mock-Scenario: timeout).', 'client', 408, undefined, 408);
    }
    if (scenario === 'stream-break' && !streaming) {
      throw new ProviderError('Test mode: stream-break applies to streaming requests only.', 'client', 400, undefined, 400);
    }
    return scenario;
  }
}

function splitText(text: string, pieces: number): string[] {
  const words = text.split(/(?<=\s)/);
  const size = Math.max(1, Math.ceil(words.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(''));
  return out;
}
