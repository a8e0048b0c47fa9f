// Shared by the provider-*.test.ts end-to-end files: reading what a request
// was billed, and an HTTP relay that edits an emulator's responses.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { ledgerEntries, usageRecords } from '../../src/db/schema.js';
import type { TestGateway } from '../helpers/start-gateway.js';

export type UsageRow = typeof usageRecords.$inferSelect;

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
