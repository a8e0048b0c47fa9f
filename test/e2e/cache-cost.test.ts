// Exact cost with prompt caching on every door × upstream pair whose upstream
// reports cache reads or writes: each row scripts the upstream's usage,
// sends one request through the door's own official SDK, and checks the
// usage row's tokens, prices in force and cost against a decimal worked out
// by hand. Only Anthropic reports cache writes; OpenAI and Gemini report
// reads (their writes cost plain input).
import Anthropic from '@anthropic-ai/sdk';
import { type GenerateContentResponseUsageMetadata, GoogleGenAI } from '@google/genai';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import { usageRecords } from '../../src/db/schema.js';
import { type Emulator, type Script, startAnthropicEmulator, startGeminiEmulator, startOpenAIEmulator } from '../emulators/index.js';
import { openapiErrors } from '../helpers/openapi.js';
import { plain } from '../helpers/use-test-database.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

type Upstream = 'openai' | 'anthropic' | 'gemini';

// Prices per 1M tokens. The write prices are left unset: the defaults
// (1.25 × and 2 × input) are what these rows charge.
const MODELS: Record<Upstream, { id: string; inputPrice: string; outputPrice: string; cachedInputPrice: string }> = {
  openai: { id: 'cache-gpt', inputPrice: '2', outputPrice: '8', cachedInputPrice: '0.5' },
  anthropic: { id: 'cache-claude', inputPrice: '3', outputPrice: '15', cachedInputPrice: '0.3' },
  gemini: { id: 'cache-gemini', inputPrice: '0.3', outputPrice: '2.5', cachedInputPrice: '0.075' },
};
const PRICES_IN_FORCE: Record<Upstream, string[]> = {
  // input, cached input, cache write (5m), cache write (1h), output
  openai: ['2', '0.5', '2.5', '4', '8'],
  anthropic: ['3', '0.3', '3.75', '6', '15'],
  gemini: ['0.3', '0.075', '0.375', '0.6', '2.5'],
};

/**
 * A prompt of about 6,000 tokens: the reservation counts the real prompt, so
 * the usage the emulators report (up to 5,000 prompt tokens) stays under it
 * and each row's cost is its own, not the cap.
 */
const PROMPT = 'cache '.repeat(6000);
const MAX_TOKENS = 300;

interface Scenario {
  upstream: Upstream;
  usage: NonNullable<Script['usage']>;
  /** What the row records: prompt (all input), cached, cache writes 5m / 1h, completion. */
  tokens: [number, number, number, number, number];
  cost: string;
}

// Each cost worked by hand: tokens × price per 1M, summed in millionths.
const scenarios: Scenario[] = [
  // 464 × 2 + 1536 × 0.5 + 100 × 8 = 928 + 768 + 800 → 0.002496
  { upstream: 'openai', usage: { input: 2000, cached: 1536, output: 100 }, tokens: [2000, 1536, 0, 0, 100], cost: '0.002496' },
  // Whole prompt cached: 1024 × 0.5 + 10 × 8 = 512 + 80 → 0.000592
  { upstream: 'openai', usage: { input: 1024, cached: 1024, output: 10 }, tokens: [1024, 1024, 0, 0, 10], cost: '0.000592' },
  // 500 × 3 + 3000 × 0.3 + 1000 × 3.75 + 500 × 6 + 200 × 15 = 1500 + 900 + 3750 + 3000 + 3000 → 0.01215
  // (streamed, the TTL split arrives in message_start and the totals in message_delta)
  { upstream: 'anthropic', usage: { input: 5000, cached: 3000, cacheWrite: 1000, cacheWrite1h: 500, output: 200 }, tokens: [5000, 3000, 1000, 500, 200], cost: '0.01215' },
  // Whole prompt cached: 4000 × 0.3 + 50 × 15 = 1200 + 750 → 0.00195
  { upstream: 'anthropic', usage: { input: 4000, cached: 4000, output: 50 }, tokens: [4000, 4000, 0, 0, 50], cost: '0.00195' },
  // Whole prompt written with the 1-hour TTL: 4000 × 6 + 10 × 15 = 24000 + 150 → 0.02415
  { upstream: 'anthropic', usage: { input: 4000, cacheWrite1h: 4000, output: 10 }, tokens: [4000, 0, 0, 4000, 10], cost: '0.02415' },
  // 1000 × 0.3 + 2000 × 0.075 + 100 × 2.5 = 300 + 150 + 250 → 0.0007
  { upstream: 'gemini', usage: { input: 3000, cached: 2000, output: 100 }, tokens: [3000, 2000, 0, 0, 100], cost: '0.0007' },
  // Whole prompt cached: 1000 × 0.075 + 10 × 2.5 = 75 + 25 → 0.0001
  { upstream: 'gemini', usage: { input: 1000, cached: 1000, output: 10 }, tokens: [1000, 1000, 0, 0, 10], cost: '0.0001' },
];

/** The doors under test: their usage-row endpoint. */
const DOORS = ['chat', 'responses', 'messages', 'generate_content'] as const;

type Row = Scenario & { door: (typeof DOORS)[number]; stream: boolean };
const rows: Row[] = DOORS.flatMap((door) => scenarios.flatMap((s) => [false, true].map((stream) => ({ ...s, door, stream }))));

let gw: TestGateway;
const emulators = {} as Record<Upstream, Emulator>;

beforeAll(async () => {
  const [started, openai, anthropic, gemini] = await Promise.all([startGateway(), startOpenAIEmulator(), startAnthropicEmulator(), startGeminiEmulator()]);
  gw = started;
  Object.assign(emulators, { openai, anthropic, gemini });
  for (const upstream of ['openai', 'anthropic', 'gemini'] as const) {
    const m = MODELS[upstream];
    await upsertModel(gw.database.db, { ...m, kind: 'chat', ownedBy: 'test', maxOutputTokens: 1000, routes: [{ provider: upstream, upstreamModel: m.id }] }, gw.gateway.bus);
    await addUpstreamKey(gw.database.db, gw.gateway.secrets, gw.gateway.bus, gw.gateway.providers, {
      provider: upstream,
      label: `cache-${upstream}`,
      secret: `sk-cache-${upstream}`,
      baseUrl: emulators[upstream].url,
      priority: 0,
      weight: 1,
      models: [m.id],
    });
  }
  await Promise.all([gw.gateway.catalogue.reload(), gw.gateway.pool.reload()]);
});
afterAll(async () => {
  await gw?.close();
  for (const e of Object.values(emulators)) await e.close();
});

/** What a door reports, in its own usage shape, as [prompt, cached, write 5m, write 1h, completion]; null where the shape has no such field. */
type DoorTokens = Array<number | null>;

interface Door {
  /** Sends the row's request through the door's own SDK; returns what the door reported. */
  send(row: Row, secret: string): Promise<DoorTokens>;
}

const doors: Record<Row['door'], Door> = {
  chat: {
    async send(row, secret) {
      const client = gw.client(secret);
      const body = { model: MODELS[row.upstream].id, messages: [{ role: 'user' as const, content: PROMPT }], max_tokens: MAX_TOKENS, prompt_cache_key: 'tenant-7' };
      let usage: OpenAI.CompletionUsage | undefined;
      if (row.stream) {
        for await (const chunk of await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } })) {
          expect(openapiErrors('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
          usage = chunk.usage ?? usage;
        }
      } else {
        const completion = await client.chat.completions.create(body);
        // The gateway's cache_write fields beside cached_tokens still conform to OpenAI's schema.
        expect(openapiErrors('CreateChatCompletionResponse', completion)).toEqual([]);
        usage = completion.usage;
      }
      // The gateway's own cache_write fields ride along in prompt_tokens_details (OpenAI SDKs keep unknown fields).
      const d = (usage?.prompt_tokens_details ?? {}) as { cached_tokens?: number; cache_write_tokens?: number; cache_write_1h_tokens?: number };
      return [usage!.prompt_tokens, d.cached_tokens ?? 0, d.cache_write_tokens ?? 0, d.cache_write_1h_tokens ?? 0, usage!.completion_tokens];
    },
  },
  responses: {
    async send(row, secret) {
      const client = gw.client(secret);
      const body = { model: MODELS[row.upstream].id, input: PROMPT, max_output_tokens: MAX_TOKENS, prompt_cache_key: 'tenant-7', store: false };
      let usage: OpenAI.Responses.ResponseUsage | undefined;
      if (row.stream) {
        for await (const event of await client.responses.create({ ...body, stream: true })) if (event.type === 'response.completed') usage = event.response.usage;
      } else {
        const response = await client.responses.create(body);
        expect(openapiErrors('Response', response)).toEqual([]);
        usage = response.usage;
      }
      return [usage!.input_tokens, usage!.input_tokens_details.cached_tokens, null, null, usage!.output_tokens];
    },
  },
  messages: {
    async send(row, secret) {
      const anthropic = new Anthropic({ apiKey: secret, baseURL: gw.url, maxRetries: 0 });
      const body = { model: MODELS[row.upstream].id, max_tokens: MAX_TOKENS, messages: [{ role: 'user' as const, content: PROMPT }] };
      const usage = row.stream ? (await anthropic.messages.stream(body).finalMessage()).usage : (await anthropic.messages.create(body)).usage;
      // Anthropic's input_tokens leaves out cache reads and writes; the TTL split is in cache_creation.
      const read = usage.cache_read_input_tokens ?? 0;
      const written = usage.cache_creation_input_tokens ?? 0;
      const split = usage.cache_creation;
      return [usage.input_tokens + read + written, read, split ? split.ephemeral_5m_input_tokens : null, split ? split.ephemeral_1h_input_tokens : null, usage.output_tokens];
    },
  },
  generate_content: {
    async send(row, secret) {
      const genai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw.url } });
      const request = { model: MODELS[row.upstream].id, contents: PROMPT, config: { maxOutputTokens: MAX_TOKENS } };
      let usage: GenerateContentResponseUsageMetadata | undefined;
      if (row.stream) {
        for await (const chunk of await genai.models.generateContentStream(request)) usage = chunk.usageMetadata ?? usage;
      } else {
        usage = (await genai.models.generateContent(request)).usageMetadata;
      }
      // Gemini's promptTokenCount includes the cached part; thoughts are output apart from candidates.
      return [usage!.promptTokenCount ?? 0, usage!.cachedContentTokenCount ?? 0, null, null, (usage!.candidatesTokenCount ?? 0) + (usage!.thoughtsTokenCount ?? 0)];
    },
  },
};

describe('exact cost with prompt caching, door × upstream', () => {
  it.each(rows.map((r) => [`${r.door} door × ${r.upstream}${r.stream ? ' (stream)' : ''}: ${r.tokens.join('/')} → ${r.cost}`, r] as const))('%s', async (_name, row) => {
    emulators[row.upstream].setScript({ text: 'Cached.', usage: row.usage });
    // A project per row: its one usage row is this request's.
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '10' });
    const reported = await doors[row.door].send(row, secret);
    expect(reported).toEqual(row.tokens.map((n, i) => (reported[i] === null ? null : n)));
    await gw.gateway.metering.idle();
    const [r, ...more] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(more).toEqual([]);
    expect(r).toMatchObject({ status: 'ok', provider: row.upstream, endpoint: row.door, stream: row.stream });
    expect([r!.promptTokens, r!.cachedTokens, r!.cacheWriteTokens, r!.cacheWrite1hTokens, r!.completionTokens]).toEqual(row.tokens);
    expect([plain(r!.inputPrice), plain(r!.cachedInputPrice), plain(r!.cacheWritePrice), plain(r!.cacheWrite1hPrice), plain(r!.outputPrice)]).toEqual(PRICES_IN_FORCE[row.upstream]);
    expect(plain(r!.cost)).toBe(row.cost);
    // Charged whole: the reservation held more.
    expect(Number(r!.reservedCost)).toBeGreaterThan(Number(r!.cost));
  });

  it("shows the cache reads and writes in the project's own usage API (the project dashboard's table)", async () => {
    const { secret } = await gw.project({ mode: 'live', balance: '10' });
    const row = { ...scenarios[2]!, door: 'chat' as const, stream: false };
    emulators.anthropic.setScript({ text: 'Cached.', usage: row.usage });
    await doors.chat.send(row, secret);
    await gw.gateway.metering.idle();
    const res = await fetch(`${gw.url}/api/usage?range=24h`, { headers: { authorization: `Bearer ${secret}` } });
    const body = (await res.json()) as { recent: Array<Record<string, unknown>> };
    expect(body.recent).toMatchObject([{ prompt_tokens: 5000, cached_tokens: 3000, cache_write_tokens: 1000, cache_write_1h_tokens: 500, completion_tokens: 200, cost: '0.01215' }]);
  });

  it.each(['chat', 'responses'] as const)("%s door passes OpenAI's prompt_cache_key through to an OpenAI-wire upstream", async (door) => {
    const { secret } = await gw.project({ mode: 'live', balance: '10' });
    emulators.openai.setScript({ text: 'Cached.', usage: scenarios[0]!.usage });
    const before = emulators.openai.requests.length;
    await doors[door].send({ ...scenarios[0]!, door, stream: false }, secret);
    expect(emulators.openai.requests.slice(before).map((r) => r.body.prompt_cache_key)).toEqual(['tenant-7']);
  });
});
