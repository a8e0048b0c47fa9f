// What each provider declares to the conformance suite
// (provider-conformance.test.ts): its emulator, what it supports, the few
// facts of its wire the shared scenarios need (how its tool-call ids look,
// after how many stream events text has reached the client, which options it
// refuses), and the tests of what only it does (provider-<id>-quirks.ts).
// A new provider gets every scenario by adding a profile here.
//
// The quirks run inside the suite's file, on its one gateway: a gateway's
// start (the database and its migrations) costs more than all of a
// provider's quirk tests together.
import type OpenAI from 'openai';
import {
  type Emulator,
  type EmulatorOptions,
  type RecordedRequest,
  type Script,
  startAnthropicEmulator,
  startGeminiEmulator,
  startOpenAIEmulator,
} from '../emulators/index.js';
import { anthropicQuirks } from './provider-anthropic-quirks.js';
import { geminiQuirks } from './provider-gemini-quirks.js';
import type { ProviderEnv } from './provider-support.js';

export interface ProviderProfile {
  /** The provider id routes and upstream keys name. */
  id: string;
  /** Starts one of its emulators; keys of one profile share an emulator family. */
  start(options?: EmulatorOptions): Promise<Emulator>;
  /** The emulator family, so profiles speaking the same wire share one pair of emulators. */
  family: 'openai' | 'anthropic' | 'gemini';
  /** What the emulator answers with no script. */
  defaultText: string;
  /** The shape of the tool-call ids the client sees. */
  toolCallId: RegExp;
  supports: {
    embeddings: boolean;
    /** The upstream reports reasoning tokens apart (Anthropic counts them in output only). */
    reasoningTokens: boolean;
  };
  /** Embedding usage: what the upstream reports, or the gateway's own count when it reports none. */
  embeddingUsage?: 'reported' | 'counted';
  /** Options this provider cannot honour: a 400 naming `names`, before any upstream call. */
  unsupported: Array<{ params: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> & Record<string, unknown>; names: string }>;
  /** The status it answers when overloaded. */
  overloadedStatus: number;
  /** The script that makes the upstream answer `value` in JSON mode. */
  jsonScript(value: Record<string, unknown>): Script;
  /** Stream events after which text has reached the client (of a text in 4 to 6 pieces): where a stream fault goes. */
  eventsWithText: number;
  /** How its in-stream error event reads to the client. */
  streamErrorMessage: RegExp;
  /** The reason recorded when it rejects a key's credentials. */
  rejectedKeyReason: RegExp;
  /** The upstream key a recorded request carried. */
  sentKey(req: RecordedRequest): string | undefined;
  /** The catalogue's output ceiling for its models, when the default does not fit. */
  maxOutputTokens?: number;
  /** Registers the tests of what only this provider does. */
  quirks?(env: ProviderEnv): void;
}

const openaiWire = {
  start: (options?: EmulatorOptions) => startOpenAIEmulator(options),
  family: 'openai' as const,
  defaultText: 'Hello from the openai emulator.',
  toolCallId: /^call_/,
  overloadedStatus: 503,
  jsonScript: (value: Record<string, unknown>): Script => ({ text: JSON.stringify(value) }),
  // The role chunk, then text pieces.
  eventsWithText: 3,
  streamErrorMessage: /server had an error/,
  rejectedKeyReason: /Incorrect API key/,
  sentKey: (req: RecordedRequest) => req.headers['authorization']?.replace(/^Bearer /, ''),
};

export const PROFILES: ProviderProfile[] = [
  { ...openaiWire, id: 'openai', supports: { embeddings: true, reasoningTokens: true }, embeddingUsage: 'reported', unsupported: [] },
  {
    ...openaiWire,
    id: 'deepseek',
    supports: { embeddings: false, reasoningTokens: true },
    unsupported: [{ params: { deepsearch: true }, names: 'deepsearch' }],
  },
  { ...openaiWire, id: 'openai-compatible', supports: { embeddings: true, reasoningTokens: true }, embeddingUsage: 'reported', unsupported: [] },
  {
    id: 'anthropic',
    start: (options) => startAnthropicEmulator(options),
    family: 'anthropic',
    defaultText: 'Hello from the anthropic emulator.',
    toolCallId: /^toolu_/,
    supports: { embeddings: false, reasoningTokens: false },
    unsupported: [
      { params: { seed: 7 }, names: 'seed' },
      { params: { n: 2 }, names: 'n > 1' },
    ],
    overloadedStatus: 529,
    // JSON mode is a forced tool whose input is the answer.
    jsonScript: (value) => ({ toolCalls: [{ name: 'json_tool_call', arguments: value }] }),
    // message_start, content_block_start, ping, then text deltas.
    eventsWithText: 5,
    streamErrorMessage: /overloaded/i,
    rejectedKeyReason: /invalid x-api-key/,
    sentKey: (req) => req.headers['x-api-key'],
    // Thinking needs max_tokens above its smallest budget (1024); the default ceiling is 1000.
    maxOutputTokens: 8192,
    quirks: anthropicQuirks,
  },
  {
    id: 'gemini',
    start: (options) => startGeminiEmulator(options),
    family: 'gemini',
    defaultText: 'Hello from the gemini emulator.',
    toolCallId: /^call_/,
    supports: { embeddings: true, reasoningTokens: true },
    embeddingUsage: 'counted',
    unsupported: [
      { params: { logprobs: true }, names: 'logprobs' },
      { params: { logit_bias: { '50256': -100 } }, names: 'logit_bias' },
    ],
    overloadedStatus: 503,
    jsonScript: (value) => ({ text: JSON.stringify(value) }),
    // One event per text piece.
    eventsWithText: 3,
    streamErrorMessage: /overloaded/i,
    // Gemini says a key is bad with a 400 INVALID_ARGUMENT whose reason is API_KEY_INVALID.
    rejectedKeyReason: /API key not valid/,
    sentKey: (req) => req.headers['x-goog-api-key'],
    quirks: geminiQuirks,
  },
];
