// Shared by the provider end-to-end tests (the conformance suite, the
// providers' quirks, output-cap.test.ts): what a provider's tests are handed,
// the tools and turns their requests offer, reading what a request was
// billed, reading a stream to its end, and an HTTP relay that edits an
// emulator's responses.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { ledgerEntries, type ModelCapabilities, usageRecords } from '../../src/db/schema.js';
import type { Emulator } from '../emulators/index.js';
import type { LiveKey } from '../helpers/live-routes.js';
import type { TestGateway } from '../helpers/start-gateway.js';

export type UsageRow = typeof usageRecords.$inferSelect;

export interface RouteOptions {
  /** The upstream's name for the model, when the test needs a real one (a default unique to the route). */
  upstreamModel?: string;
  keys?: LiveKey[];
  onlyA?: boolean;
  kind?: 'chat' | 'embedding';
  capabilities?: ModelCapabilities;
  fallbacks?: string[];
}

/** A public model routed to one provider, and its upstream key ids in the order they are tried. */
export interface Route {
  model: string;
  upstreamModel: string;
  keyIds: string[];
}

/** What a provider's tests get from the suite; read inside tests, as it is set up in beforeAll. */
export interface ProviderEnv {
  gw(): TestGateway;
  /** The openai client of the one project that pays for every request. */
  client(): OpenAI;
  /** This provider's emulators: A, whose keys are tried first, and B. Reset before each test. */
  emulators(): [Emulator, Emulator];
  /** A fresh model over keys A and B (or `keys`), for a test that fails, cools or disables a key. */
  route(options?: RouteOptions): Promise<Route>;
  /** One model over keys A and B for tests that leave its keys healthy. */
  shared(): Promise<Route>;
}

export const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
export const timeTool = {
  type: 'function' as const,
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
};
/** A 1×1 PNG, base64, for image parts. */
export const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';

/** System and developer instructions, then a question with an inline PNG and the image at `imageUrl`. */
export function instructionsAndImages(imageUrl: string): OpenAI.ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: 'Answer in English.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these, and the weather?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: 'image_url', image_url: { url: imageUrl } },
      ],
    },
  ];
}

/**
 * A question for both tools and the assistant turn calling them in parallel,
 * with the ids and get_time arguments a provider's test spells its own way;
 * the test appends the tool results.
 */
export function weatherAndTimeCalls(ids: { weather: string; time: string }, timeArguments: string): OpenAI.ChatCompletionMessageParam[] {
  return [
    { role: 'user', content: 'Weather and time in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: ids.weather, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: ids.time, type: 'function', function: { name: 'get_time', arguments: timeArguments } },
      ],
    },
  ];
}

/** The settled usage record of a request (waits for settlement first). */
export async function usageRow(gw: TestGateway, requestId: string): Promise<UsageRow> {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  expect(row, `usage record ${requestId}`).toBeDefined();
  return row!;
}

/** The request's charge in the ledger. */
export async function chargeOf(gw: TestGateway, requestId: string) {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.requestId, requestId), eq(ledgerEntries.kind, 'charge')));
  return row;
}

/**
 * Asserts the usage record and the ledger charge of a request: liveModel
 * prices are 1 (input), 0.5 (cached input) and 2 (output) per 1M tokens.
 */
export async function expectBilled(
  gw: TestGateway,
  requestId: string,
  expected: { prompt: number; completion: number; cached?: number; reasoning?: number; status?: string },
): Promise<UsageRow> {
  const row = await usageRow(gw, requestId);
  const cached = expected.cached ?? 0;
  const micro = (expected.prompt - cached) * 1 + cached * 0.5 + expected.completion * 2;
  const cost = (micro / 1_000_000).toFixed(12);
  expect(row).toMatchObject({
    status: expected.status ?? 'ok',
    test: false,
    promptTokens: expected.prompt,
    completionTokens: expected.completion,
    cachedTokens: cached,
    ...(expected.reasoning !== undefined ? { reasoningTokens: expected.reasoning } : {}),
    cost,
  });
  const charge = await chargeOf(gw, requestId);
  expect(charge).toMatchObject({ kind: 'charge', amount: `-${cost}` });
  return row;
}

export type ApiError = InstanceType<typeof OpenAI.APIError>;

export async function errorOf(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as ApiError;
}

/**
 * A relay in front of an emulator that drops response headers, to show the
 * gateway reads what is left (Gemini's RetryInfo without `retry-after`).
 */
export async function startHeaderStrippingRelay(target: string, dropHeaders: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const origin = new URL(target);
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const headers = { ...up.headers };
        for (const h of dropHeaders) delete headers[h];
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${origin.pathname.replace(/\/$/, '')}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type WithReasoning = { reasoning_content?: string | null };

export interface DrainedStream {
  content: string;
  reasoning: string;
  finishes: string[];
  usage: OpenAI.CompletionUsage | undefined;
  /** What the stream threw, if it did not end cleanly. */
  error: Error | undefined;
}

/** Reads a chat stream to its end (or its error), collecting what the client saw. */
export async function drain(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<DrainedStream> {
  const out: DrainedStream = { content: '', reasoning: '', finishes: [], usage: undefined, error: undefined };
  try {
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & WithReasoning) | undefined;
      out.content += delta?.content ?? '';
      out.reasoning += delta?.reasoning_content ?? '';
      if (chunk.choices[0]?.finish_reason) out.finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) out.usage = chunk.usage;
    }
  } catch (e) {
    out.error = e as Error;
  }
  return out;
}
