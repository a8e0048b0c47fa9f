// The standing attack suite, REST door: generated bad input at every route,
// with a pk_test_ and a pk_live_ key. Whatever arrives, the answer is a 4xx
// in OpenAI's error shape naming the field (or at least the problem), never
// a 500; the process's memory stays bounded; and a refused request moves no
// money and changes no usage row (it may only add its own `rejected` row).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEXT_LIMITS } from '../../src/contract/text-limits.js';
import { usageRecords } from '../../src/db/schema.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { deepJsonText, huge, pastBoundary, SEED, Tally, withControl, wrongType } from './bad-input.js';
import { refusalRowsAdded, snapshot } from './db-snapshot.js';

const RUNS = 60;
const RSS_HEADROOM = 300 * 1024 * 1024;

let gw: TestGateway;
let keys: { test: string; live: string; liveKeyId: string; testKeyId: string };
let rssCeiling = 0;
const tally = new Tally();

beforeAll(async () => {
  gw = await startGateway();
  const test = await gw.project({ mode: 'test' });
  const live = await gw.project({ mode: 'live', balance: '10' });
  keys = { test: test.secret, live: live.secret, testKeyId: test.keyId, liveKeyId: live.keyId };
  // One accepted request first, so the snapshots hold a settled row a refusal must not touch.
  const warm = await gw.client(keys.test).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  expect(warm.choices).toHaveLength(1);
  await vi.waitFor(async () => {
    const rows = await gw.database.db.select({ status: usageRecords.status }).from(usageRecords);
    expect(rows.map((r) => r.status)).toEqual(['ok']);
  }, { timeout: 10_000, interval: 20 });
  rssCeiling = process.memoryUsage.rss() + RSS_HEADROOM;
});

afterAll(async () => {
  // The figures the closing note asks for.
  console.log(tally.report('REST attack suite'));
  await gw?.close();
});

interface Answer {
  status: number;
  body: { error?: { message: unknown; type: unknown; param: unknown; code: unknown } } | undefined;
}

async function send(method: 'GET' | 'POST', path: string, key: string | undefined, body?: string, door = path): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: Answer['body'];
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  tally.count(door, res.status);
  expect(process.memoryUsage.rss()).toBeLessThan(rssCeiling);
  return { status: res.status, body: parsed };
}

/** A 4xx in OpenAI's error shape; `field` given: `param` names it (or a part inside it). */
function expectRefused(answer: Answer, field?: string): void {
  expect(answer.status, JSON.stringify(answer.body)?.slice(0, 300)).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  const error = answer.body?.error;
  expect(error).toBeDefined();
  expect(typeof error!.message).toBe('string');
  expect((error!.message as string).length).toBeGreaterThan(0);
  // Whatever came in, the message stays short: it never echoes a megabyte back.
  expect((error!.message as string).length).toBeLessThan(1000);
  expect(typeof error!.type).toBe('string');
  expect(error!.code).toBe(answer.status);
  expect(error!.param === null || typeof error!.param === 'string').toBe(true);
  if (field !== undefined) {
    const param = String(error!.param);
    expect(param === field || param.startsWith(`${field}.`), `param ${param} should name ${field}`).toBe(true);
  }
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });
const embedding = (extra: Record<string, unknown> = {}) => ({ model: 'text-embedding-3-small', input: 'hi', ...extra });

function setAt(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let node: any = target;
  for (const part of parts.slice(0, -1)) node = node[part];
  node[parts.at(-1)!] = value;
  return target;
}

/** One field of a valid body replaced by a value it can never take; the refusal must name that field. */
interface Corruption {
  field: string;
  value: unknown;
}

const identifier = (field: string) =>
  fc.oneof(huge(), withControl(), fc.constant(''), wrongType('string').filter((v) => v !== null && v !== undefined)).map((value): Corruption => ({ field, value }));
const optionalIdentifier = (field: string) =>
  fc.oneof(huge(), withControl(), fc.constant(''), wrongType('string').filter((v) => v !== null)).map((value): Corruption => ({ field, value }));
const numberPast = (field: string, min: number, max: number, integer: boolean) =>
  fc.oneof(pastBoundary(min, max, integer), wrongType(integer ? 'integer' : 'number').filter((v) => v !== null && typeof v !== 'number')).map((value): Corruption => ({ field, value }));
const oneOfPast = (field: string, values: unknown[]) => fc.constantFrom(...values).map((value): Corruption => ({ field, value }));

const chatCorruptions: fc.Arbitrary<Corruption> = fc.oneof(
  identifier('model'),
  oneOfPast('messages', [[], 'hi', 5, null, {}, [null], [[]], [{ role: 'wizard', content: 'x' }], [{ role: 'user' }], [{ role: 'user', content: 5 }]]),
  optionalIdentifier('messages.0.name'),
  oneOfPast('messages.0.content', [5, true, null, {}, [{ type: 'video', url: 'x' }], [{ type: 'image_url', image_url: { url: '' } }]]),
  numberPast('temperature', 0, 2, false),
  numberPast('top_p', 0, 1, false),
  numberPast('presence_penalty', -2, 2, false),
  numberPast('frequency_penalty', -2, 2, false),
  numberPast('n', 1, 128, true),
  oneOfPast('max_tokens', [0, -1, 1.5, '100', true, -1e308]),
  oneOfPast('max_completion_tokens', [0, -1, 2.5, '100', {}, -1e308]),
  oneOfPast('timeout', [0, -1, 3600.5, 1e308, 'soon']),
  oneOfPast('seed', [1.5, '42', {}]),
  oneOfPast('stream', ['yes', 1, {}]),
  oneOfPast('stop', [5, ['a', 'b', 'c', 'd', 'e'], [1], {}]),
  oneOfPast('tools', ['all', 5, [{ type: 'retrieval' }], [{ type: 'function', function: { name: 'bad name!' } }], [{ type: 'function', function: { name: 'x'.repeat(65) } }]]),
  oneOfPast('tool_choice', ['sometimes', 5, { type: 'function', function: { name: 'a\u0000' } }]),
  oneOfPast('response_format', [{ type: 'xml' }, 'json', { type: 'json_schema', json_schema: { name: 'n\u0000' } }]),
  optionalIdentifier('user'),
  optionalIdentifier('reasoning_effort'),
);

const embeddingCorruptions: fc.Arbitrary<Corruption> = fc.oneof(
  identifier('model'),
  oneOfPast('input', ['', [], [''], ['a', ''], 5, null, true, {}, [[]], [[-1]], [1.5], [[1, 'a']], Array.from({ length: 2049 }, () => 'a')]),
  oneOfPast('encoding_format', ['hex', 5, '']),
  numberPast('dimensions', 1, 8192, true),
  optionalIdentifier('user'),
);

/** Bodies refused as a whole: not an object, not JSON, smuggled prototypes, nesting past any use. */
const wholeBodies = fc.constantFrom(
  '[]',
  '"hi"',
  '5',
  'null',
  'true',
  '{',
  '{"model": "gpt-4o-mini", "messages": [',
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"__proto__":{"admin":true}}',
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"constructor":{"prototype":{"admin":true}}}',
  deepJsonText(100_000, 'array'),
  deepJsonText(100_000, 'object'),
  '\u0000',
  '',
);

/**
 * JSON nested past any use where the schema takes any value (a tool's
 * parameters, a response schema, an extra field): spliced as text, deeper
 * than JSON.stringify can write.
 */
const deepFields = fc
  .tuple(fc.constantFrom(100, 10_000, 100_000), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom('tools', 'response_format', 'metadata', 'messages'))
  .map(([depth, kind, field]) => {
    const deep = deepJsonText(depth, kind);
    const base = JSON.stringify(chat()).slice(0, -1);
    const body =
      field === 'tools'
        ? `${base},"tools":[{"type":"function","function":{"name":"f","parameters":{"p":${deep}}}}]}`
        : field === 'response_format'
          ? `${base},"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"p":${deep}}}}}`
          : field === 'messages'
            ? `{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"hi","extra":${deep}}]}]}`
            : `${base},"metadata":${deep}}`;
    return { field, body };
  });

/** Duplicate keys: JSON.parse keeps the last, so a bad value after a good one must still be caught. */
const duplicateKeys = (good: Record<string, unknown>, fields: string[]) =>
  fc.constantFrom(...fields).chain((key) =>
    fc.tuple(fc.constant(key), key === 'model' || key === 'user' ? fc.oneof(withControl(), huge(), fc.constant(-5)) : fc.constantFrom(-5, {}, true)),
  ).map(([key, bad]) => {
    const text = JSON.stringify(good);
    return { field: key, body: `${text.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(bad)}}` };
  });

async function refusedLeavesMoneyAlone(run: () => Promise<void>): Promise<void> {
  const before = await snapshot(gw.database.db);
  await run();
  const after = await snapshot(gw.database.db);
  const { added, rest } = refusalRowsAdded(before, after);
  expect(rest).toEqual(before);
  for (const row of added) {
    expect(row).toMatchObject({ status: 'rejected', cost: expect.stringMatching(/^0(\.0+)?$/), reservedCost: expect.stringMatching(/^0(\.0+)?$/), promptTokens: 0, completionTokens: 0 });
    expect(row.modelId.length).toBeLessThanOrEqual(TEXT_LIMITS.identifier);
  }
}

const options = (runs = RUNS) => ({ seed: SEED, numRuns: runs, endOnFailure: true });

describe.each(['test', 'live'] as const)('REST with a pk_%s_ key', (mode) => {
  it('POST /v1/chat/completions refuses every corrupted field, naming it', async () => {
    await refusedLeavesMoneyAlone(() =>
      fc.assert(
        fc.asyncProperty(chatCorruptions, fc.constantFrom('/v1', '/api/v1'), async ({ field, value }, prefix) => {
          const body = setAt(chat(), field, value);
          expectRefused(await send('POST', `${prefix}/chat/completions`, keys[mode], JSON.stringify(body), 'POST chat/completions'), field.split('.')[0]);
        }),
        options(RUNS * 2),
      ),
    );
  });

  it('POST /v1/embeddings refuses every corrupted field, naming it', async () => {
    await refusedLeavesMoneyAlone(() =>
      fc.assert(
        fc.asyncProperty(embeddingCorruptions, async ({ field, value }) => {
          expectRefused(await send('POST', '/v1/embeddings', keys[mode], JSON.stringify(setAt(embedding(), field, value)), 'POST embeddings'), field);
        }),
        options(),
      ),
    );
  });

  it('whole bodies, JSON nested past any use and duplicate keys are refused on both POST routes', async () => {
    await refusedLeavesMoneyAlone(async () => {
      await fc.assert(
        fc.asyncProperty(wholeBodies, fc.constantFrom('/v1/chat/completions', '/v1/embeddings'), async (body, path) => {
          expectRefused(await send('POST', path, keys[mode], body, `POST ${path.slice(4)}`));
        }),
        options(30),
      );
      await fc.assert(
        fc.asyncProperty(deepFields, async ({ field, body }) => {
          expectRefused(await send('POST', '/v1/chat/completions', keys[mode], body, 'POST chat/completions'), field);
        }),
        options(16),
      );
      await fc.assert(
        fc.asyncProperty(duplicateKeys(chat(), ['model', 'messages', 'temperature', 'user']), async ({ field, body }) => {
          expectRefused(await send('POST', '/v1/chat/completions', keys[mode], body, 'POST chat/completions'), field);
        }),
        options(20),
      );
      await fc.assert(
        fc.asyncProperty(duplicateKeys(embedding(), ['model', 'input', 'dimensions']), async ({ field, body }) => {
          expectRefused(await send('POST', '/v1/embeddings', keys[mode], body, 'POST embeddings'), field);
        }),
        options(10),
      );
    });
  });

  it('GET routes refuse bad ids, ranges and keys in the OpenAI shape', async () => {
    const keyId = mode === 'test' ? keys.testKeyId : keys.liveKeyId;
    // Lone surrogates cannot be percent-encoded as UTF-8: sent as the bytes of one (invalid UTF-8).
    const segment = (id: string) => encodeURIComponent(id.replace(/[\ud800-\udfff]/gu, '\ue000')).replace(/%EE%80%80/g, '%ED%A0%80').replace(/%25/g, '%');
    const badId = fc.oneof(withControl(), fc.constantFrom('x'.repeat(300), '%', '%E0%A4%A', '..%2F..%2Fetc', '%00', 'a'.repeat(TEXT_LIMITS.identifier + 1)));
    await refusedLeavesMoneyAlone(() =>
      fc.assert(
        fc.asyncProperty(
          fc.oneof(
            badId.map((id) => ({ path: `/v1/models/${segment(id)}`, door: 'GET models/:id' })),
            badId.filter((id) => id !== keyId).map((id) => ({ path: `/api/balance/${segment(id)}`, door: 'GET balance/:keyId' })),
            badId.map((id) => ({ path: `/api/usage/requests/${segment(id)}`, door: 'GET usage/requests/:id' })),
            fc
              .oneof(fc.constantFrom('toString', '__proto__', 'constructor', '', '1y', 'a&range=b', '24h%00'), withControl().map(segment))
              .map((range) => ({ path: `/api/usage?range=${range}`, door: 'GET usage' })),
          ),
          async ({ path, door }) => {
            const answer = await send('GET', path, keys[mode], undefined, door);
            // An unknown id is a 404; a malformed one a 400: both refusals, never a 500.
            expectRefused(answer);
          },
        ),
        options(),
      ),
    );
  });
});

describe('REST without a valid key', () => {
  it('every route answers 401 in the OpenAI shape to garbage credentials', async () => {
    const routes = [
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/embeddings'],
      ['GET', '/v1/models'],
      ['GET', '/v1/models/gpt-4o-mini'],
      ['GET', '/api/balance/key_x'],
      ['GET', '/api/usage'],
      ['GET', '/api/usage/requests/req_x'],
    ] as const;
    const badKey = fc.oneof(
      fc.constantFrom('', 'pk_test_', 'pk_live_', 'Bearer', 'x'.repeat(8000), `pk_test_${'a'.repeat(4000)}`, 'pk_live_\u00ff\u00fe'),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789'.split('')), maxLength: 60 }).map((s) => `pk_test_${s}`),
    );
    await refusedLeavesMoneyAlone(() =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), badKey, async ([method, path], key) => {
          const answer = await send(method, path, key, method === 'POST' ? JSON.stringify(path.includes('chat') ? chat() : embedding()) : undefined, `${method} ${path.replace(/^\/(v1|api)\//, '')} (bad key)`);
          expectRefused(answer);
          expect(answer.status).toBe(401);
        }),
        options(),
      ),
    );
  });
});

describe('REST: odd but valid input never crashes the gateway', () => {
  it('values at every boundary, deep JSON where the schema takes any object, conflicting fields: a 200 or a 4xx, never a 500', async () => {
    const deepObject = (depth: number) => JSON.parse(deepJsonText(depth, 'object'));
    const odd = fc.oneof(
      fc.constantFrom(
        { temperature: 0 },
        { temperature: 2 },
        { top_p: 0 },
        { top_p: 1 },
        { n: 1 },
        { n: 128, max_tokens: 1 },
        { presence_penalty: -2, frequency_penalty: 2 },
        { max_tokens: 1 },
        { max_completion_tokens: 1, max_tokens: 4000 },
        { timeout: 3600 },
        { seed: Number.MAX_SAFE_INTEGER },
        { seed: -Number.MAX_SAFE_INTEGER },
        { stop: ['a', 'b', 'c', 'd'] },
        { stream: false, stream_options: { include_usage: true } },
        { stream: true, n: 3 },
        { tool_choice: 'required' },
        { tool_choice: { type: 'function', function: { name: 'not_in_tools' } }, tools: [{ type: 'function', function: { name: 'f' } }] },
        { response_format: { type: 'json_schema', json_schema: { name: 'x'.repeat(TEXT_LIMITS.identifier) } } },
        { model: 'x'.repeat(TEXT_LIMITS.identifier) },
        { user: 'u'.repeat(TEXT_LIMITS.identifier) },
        { messages: [{ role: 'user', content: '\u0000\u001b[2J\ud800' }] },
        { messages: [{ role: 'user', content: [] }] },
        { messages: [{ role: 'assistant', content: null }] },
      ),
      fc.integer({ min: 1, max: 3 }).map((k) => ({ tools: [{ type: 'function', function: { name: 'f', parameters: deepObject(10 ** k) } }] })),
      fc.integer({ min: 1, max: 3 }).map((k) => ({ response_format: { type: 'json_schema', json_schema: { name: 'n', schema: deepObject(10 ** k) } } })),
      fc.integer({ min: 1, max: 3 }).map((k) => ({ metadata: deepObject(10 ** k) })),
    );
    const before = await snapshot(gw.database.db);
    await fc.assert(
      fc.asyncProperty(odd.map((extra) => JSON.stringify(chat(extra))), async (body) => {
        const answer = await send('POST', '/v1/chat/completions', keys.test, body, 'POST chat/completions (valid edge)');
        expect(answer.status, JSON.stringify(answer.body)?.slice(0, 300)).toBeLessThan(500);
        if (answer.status >= 400) expectRefused(answer);
      }),
      options(40),
    );
    // Test keys are never charged: balances and the ledger are as they were.
    const after = await snapshot(gw.database.db);
    expect({ projects: after.projectRows, keys: after.keyRows, ledger: after.ledger }).toEqual({ projects: before.projectRows, keys: before.keyRows, ledger: before.ledger });
  });
});
