// The gateway sends every upstream exactly one output cap, the one it
// reserved for, in that provider's own field; the charge is then what the
// upstream reports. The OpenAI-wire emulators read only one cap field each,
// as real servers do, and generate as many tokens as that field allows: a
// second field forwarded, or a cap left out, shows up as a longer answer.
//
// Models here cost 1 per 1M input tokens and 2 per 1M output tokens; the
// prompt below is 19 characters, which every emulator counts as 5 tokens.
// Expected charges are worked out by hand in each case.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { type Emulator, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { chargeOf, usageRow } from './provider-support.js';

const CAP_FIELDS = ['max_tokens', 'max_completion_tokens'] as const;
const PROMPT = 'Write a long essay.';
const CEILING = 50;

let gw: TestGateway;
let readsCompletionCap: Emulator;
let readsMaxTokens: Emulator;
let failing: Emulator;
let anthropic: Emulator;
let gemini: Emulator;
let secret: string;

beforeAll(async () => {
  [gw, readsCompletionCap, readsMaxTokens, failing, anthropic, gemini] = await Promise.all([
    startGateway(),
    startOpenAIEmulator({ honoursCap: 'max_completion_tokens' }),
    startOpenAIEmulator({ honoursCap: 'max_tokens' }),
    startOpenAIEmulator(),
    startAnthropicEmulator(),
    startGeminiEmulator(),
  ]);
  failing.setDefault({ status: 500 });
  const route = (id: string, provider: string, emulator: Emulator, extra: { maxOutputTokens?: number; fallbacks?: string[] } = {}) =>
    liveModel(gw, { id, provider, upstreamModel: `${id}-up`, keys: [{ baseUrl: emulator.url }], maxOutputTokens: CEILING, ...extra });
  await route('cap-openai', 'openai', readsCompletionCap);
  await route('cap-deepseek', 'deepseek', readsMaxTokens);
  await route('cap-compatible', 'openai-compatible', readsMaxTokens);
  await route('cap-anthropic', 'anthropic', anthropic);
  await route('cap-gemini', 'gemini', gemini);
  await route('cap-big-fallback', 'openai', readsCompletionCap, { maxOutputTokens: 1000 });
  await route('cap-small-fallback', 'openai', readsCompletionCap, { maxOutputTokens: 30 });
  await route('cap-small-primary', 'openai', failing, { fallbacks: ['cap-big-fallback'] });
  await route('cap-big-primary', 'openai', failing, { maxOutputTokens: 1000, fallbacks: ['cap-small-fallback'] });
  ({ secret } = await gw.project({ mode: 'live', balance: '10' }));
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([readsCompletionCap, readsMaxTokens, failing, anthropic, gemini].map((e) => e?.close()));
});
beforeEach(() => {
  for (const e of [readsCompletionCap, readsMaxTokens, anthropic, gemini]) e.reset();
});

type Caps = { max_tokens?: number; max_completion_tokens?: number; n?: number };

/** One chat call through the official client; the request id, and the completion tokens the client saw. */
async function call(model: string, caps: Caps, stream: boolean): Promise<{ requestId: string; completionTokens: number }> {
  const client = gw.client(secret);
  const base = { model, messages: [{ role: 'user' as const, content: PROMPT }], ...caps };
  if (!stream) {
    const { data, response } = await client.chat.completions.create(base).withResponse();
    return { requestId: response.headers.get('x-request-id')!, completionTokens: data.usage!.completion_tokens };
  }
  const { data, response } = await client.chat.completions.create({ ...base, stream: true, stream_options: { include_usage: true } }).withResponse();
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of data) if (chunk.usage) usage = chunk.usage;
  return { requestId: response.headers.get('x-request-id')!, completionTokens: usage!.completion_tokens };
}

/** The cap fields of an OpenAI-wire body the emulator received. */
const capsSent = (emulator: Emulator): Record<string, unknown> => {
  expect(emulator.requests).toHaveLength(1);
  const body = emulator.requests[0]!.body as Record<string, unknown>;
  return Object.fromEntries(CAP_FIELDS.filter((f) => f in body).map((f) => [f, body[f]]));
};

/** The usage record and the ledger charge: the upstream's reported tokens at the model's prices, nothing capped. */
async function expectCharged(requestId: string, completionTokens: number, cost: string): Promise<void> {
  const row = await usageRow(gw, requestId);
  expect(row).toMatchObject({ status: 'ok', promptTokens: 5, completionTokens, cost });
  expect(Number(row.cost)).toBeLessThanOrEqual(Number(row.reservedCost));
  expect(await chargeOf(gw, requestId)).toMatchObject({ amount: `-${cost}` });
}

// [what the request sets, the one field and value the upstream gets, the tokens it then generates, the charge by hand]
const openaiCases: Array<[string, Caps, Record<string, number>, number, string]> = [
  // 5 x 1 + 1 x 2 = 7 millionths
  ['both fields: the smaller, in max_completion_tokens', { max_completion_tokens: 4000, max_tokens: 1 }, { max_completion_tokens: 1 }, 1, '0.000007000000'],
  // 5 x 1 + 7 x 2 = 19 millionths
  ['max_tokens only: moved to max_completion_tokens', { max_tokens: 7 }, { max_completion_tokens: 7 }, 7, '0.000019000000'],
  ['max_completion_tokens only', { max_completion_tokens: 7 }, { max_completion_tokens: 7 }, 7, '0.000019000000'],
  // 5 x 1 + 50 x 2 = 105 millionths
  ['neither: the model ceiling', {}, { max_completion_tokens: 50 }, 50, '0.000105000000'],
];
const maxTokensCases: Array<[string, Caps, Record<string, number>, number, string]> = [
  ['both fields: the smaller, in max_tokens', { max_completion_tokens: 1, max_tokens: 4000 }, { max_tokens: 1 }, 1, '0.000007000000'],
  ['max_completion_tokens only: moved to max_tokens', { max_completion_tokens: 7 }, { max_tokens: 7 }, 7, '0.000019000000'],
  ['max_tokens only', { max_tokens: 7 }, { max_tokens: 7 }, 7, '0.000019000000'],
  ['neither: the model ceiling', {}, { max_tokens: 50 }, 50, '0.000105000000'],
];

describe.each([false, true])('one output cap, the reserved one (stream: %s)', (stream) => {
  it.each(openaiCases)('openai, an upstream reading max_completion_tokens: %s', async (_, caps, sent, generated, cost) => {
    const { requestId, completionTokens } = await call('cap-openai', caps, stream);
    expect(capsSent(readsCompletionCap)).toEqual(sent);
    expect(completionTokens).toBe(generated);
    await expectCharged(requestId, generated, cost);
  });

  it.each(maxTokensCases)('deepseek, an upstream reading max_tokens: %s', async (_, caps, sent, generated, cost) => {
    const { requestId, completionTokens } = await call('cap-deepseek', caps, stream);
    expect(capsSent(readsMaxTokens)).toEqual(sent);
    expect(completionTokens).toBe(generated);
    await expectCharged(requestId, generated, cost);
  });

  it('openai-compatible upstreams get max_tokens', async () => {
    const { requestId } = await call('cap-compatible', { max_completion_tokens: 4000, max_tokens: 3 }, stream);
    expect(capsSent(readsMaxTokens)).toEqual({ max_tokens: 3 });
    // 5 x 1 + 3 x 2 = 11 millionths
    await expectCharged(requestId, 3, '0.000011000000');
  });

  it('n choices: the per-choice cap is sent (the reservation holds n of them)', async () => {
    const { requestId } = await call('cap-openai', { n: 2, max_tokens: 3 }, stream);
    expect(capsSent(readsCompletionCap)).toEqual({ max_completion_tokens: 3 });
    expect(readsCompletionCap.requests[0]!.body.n).toBe(2);
    await expectCharged(requestId, 3, '0.000011000000');
  });

  it.each<[string, Caps, number]>([
    ['both fields: the smaller', { max_tokens: 20, max_completion_tokens: 4000 }, 20],
    ['max_completion_tokens only', { max_completion_tokens: 20 }, 20],
    ['neither: the model ceiling', {}, CEILING],
  ])('anthropic gets max_tokens: %s', async (_, caps, cap) => {
    const { requestId } = await call('cap-anthropic', caps, stream);
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.requests[0]!.body.max_tokens).toBe(cap);
    expect(anthropic.requests[0]!.body).not.toHaveProperty('max_completion_tokens');
    // "Hello from the anthropic emulator." is 34 characters, 9 tokens: 5 x 1 + 9 x 2 = 23 millionths
    await expectCharged(requestId, 9, '0.000023000000');
  });

  it.each<[string, Caps, number]>([
    ['both fields: the smaller', { max_tokens: 20, max_completion_tokens: 4000 }, 20],
    ['max_tokens only', { max_tokens: 20 }, 20],
    ['neither: the model ceiling', {}, CEILING],
  ])('gemini gets generationConfig.maxOutputTokens: %s', async (_, caps, cap) => {
    const { requestId } = await call('cap-gemini', caps, stream);
    expect(gemini.requests).toHaveLength(1);
    expect(gemini.requests[0]!.body.generationConfig).toEqual({ maxOutputTokens: cap });
    // "Hello from the gemini emulator." is 31 characters, 8 tokens: 5 x 1 + 8 x 2 = 21 millionths
    await expectCharged(requestId, 8, '0.000021000000');
  });
});

describe('a fallback model is held to the reservation too', () => {
  it('gets the reserved model ceiling when its own is higher', async () => {
    const { requestId } = await call('cap-small-primary', {}, false);
    expect(failing.requests.length).toBeGreaterThan(0);
    expect(capsSent(readsCompletionCap)).toEqual({ max_completion_tokens: 50 });
    await expectCharged(requestId, 50, '0.000105000000');
  });

  it('gets its own ceiling when it is lower than what was reserved', async () => {
    const { requestId } = await call('cap-big-primary', {}, false);
    expect(capsSent(readsCompletionCap)).toEqual({ max_completion_tokens: 30 });
    // 5 x 1 + 30 x 2 = 65 millionths
    await expectCharged(requestId, 30, '0.000065000000');
  });
});
