// Shared by the Messages door's tests: one gateway with a model routed to
// each upstream wire (Anthropic, OpenAI, Gemini emulators), the Anthropic
// SDK pointed at it, and reading a request's usage row.
import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { type Emulator, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

export type Wire = 'anthropic' | 'openai' | 'gemini';
export const WIRES: Wire[] = ['anthropic', 'openai', 'gemini'];

const UPSTREAM_MODEL: Record<Wire, string> = { anthropic: 'claude-sonnet-4-6', openai: 'gpt-4o-mini', gemini: 'gemini-2.5-flash' };
const START: Record<Wire, () => Promise<Emulator>> = {
  anthropic: () => startAnthropicEmulator(),
  openai: () => startOpenAIEmulator(),
  gemini: () => startGeminiEmulator(),
};

export interface MessagesEnv {
  gw(): TestGateway;
  emulator(wire: Wire): Emulator;
  /** The public model routed to `wire` (one key, healthy: for tests that do not fail it). */
  model(wire: Wire): string;
  /** A fresh model over its own key on `wire`, for a test that fails or cools its key. */
  freshModel(wire: Wire): Promise<string>;
  /** The Anthropic SDK with the paying project's live key. */
  client(): Anthropic;
  /** An Anthropic SDK with any key (or none). */
  clientWith(apiKey: string | null, options?: ConstructorParameters<typeof Anthropic>[0]): Anthropic;
  liveKey(): string;
}

/** Starts the gateway and the three emulators for a file's tests. */
export function useMessagesGateway(): MessagesEnv {
  let gw: TestGateway;
  const emulators = new Map<Wire, Emulator>();
  const models = new Map<Wire, string>();
  let secret = '';
  let n = 0;
  const freshModel = async (wire: Wire) => {
    const id = `msg-${wire}-${++n}`;
    await liveModel(gw, { id, provider: wire, upstreamModel: UPSTREAM_MODEL[wire], keys: [{ baseUrl: emulators.get(wire)!.url }], maxOutputTokens: 8192 });
    return id;
  };
  beforeAll(async () => {
    const [started, ...started3] = await Promise.all([startGateway(), ...WIRES.map((w) => START[w]())]);
    gw = started as TestGateway;
    for (const [i, w] of WIRES.entries()) emulators.set(w, started3[i] as Emulator);
    for (const w of WIRES) models.set(w, await freshModel(w));
    secret = (await gw.project({ mode: 'live', balance: '100' })).secret;
  });
  afterAll(async () => {
    await gw?.close();
    for (const e of emulators.values()) await e.close();
  });
  beforeEach(() => {
    for (const e of emulators.values()) e.reset();
  });
  const clientWith = (apiKey: string | null, options: ConstructorParameters<typeof Anthropic>[0] = {}) =>
    new Anthropic({ apiKey, baseURL: gw.url, maxRetries: 0, ...options });
  return {
    gw: () => gw,
    emulator: (wire) => emulators.get(wire)!,
    model: (wire) => models.get(wire)!,
    freshModel,
    client: () => clientWith(secret),
    clientWith,
    liveKey: () => secret,
  };
}

export type UsageRow = typeof usageRecords.$inferSelect;

/** The usage row of a request, once settled. */
export async function usageRow(gw: TestGateway, requestId: string): Promise<UsageRow> {
  await gw.gateway.metering.idle();
  const rows = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

export const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/**
 * Checks a stream's events follow Anthropic's grammar: message_start, then
 * blocks (start, deltas of the block's kind, stop) with indices from 0,
 * message_delta, message_stop; pings anywhere after the start.
 */
export function expectGrammar(events: Anthropic.MessageStreamEvent[]): void {
  const types = events.map((e) => e.type);
  expect(types[0]).toBe('message_start');
  expect(types.at(-1)).toBe('message_stop');
  expect(types.at(-2)).toBe('message_delta');
  let open: { index: number; type: string } | undefined;
  let next = 0;
  for (const e of events.slice(1, -2)) {
    if (e.type === 'content_block_start') {
      expect(open).toBeUndefined();
      expect(e.index).toBe(next++);
      open = { index: e.index, type: e.content_block.type };
    } else if (e.type === 'content_block_delta') {
      expect(open?.index).toBe(e.index);
      const allowed: Record<string, string[]> = {
        text: ['text_delta'],
        thinking: ['thinking_delta', 'signature_delta'],
        tool_use: ['input_json_delta'],
      };
      expect(allowed[open!.type]).toContain(e.delta.type);
    } else if (e.type === 'content_block_stop') {
      expect(open?.index).toBe(e.index);
      open = undefined;
    } else {
      expect(e.type).toBe('ping' as never);
    }
  }
  expect(open).toBeUndefined();
}
