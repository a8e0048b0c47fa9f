// Finding 8 of issue 20: test mode refuses a trigger it does not know, and
// the mock honours `n` (n choices, usage counted for all, streams too).
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { mockScenarios } from '../../src/providers/mock/mock-scenario.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let client: OpenAI;
beforeAll(async () => {
  gw = await startGateway();
  client = gw.client((await gw.project()).secret);
});
afterAll(async () => gw?.close());

const messages = [{ role: 'user' as const, content: 'count me three times' }];

async function usageOf(requestId: string) {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  return row!;
}

describe('X-Mock-Scenario', () => {
  it('answers 400 naming the header and every valid name for a trigger it does not know', async () => {
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers: { 'X-Mock-Scenario': 'eror-429' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.error).toMatchObject({ type: 'invalid_request_error', code: 400, param: 'X-Mock-Scenario' });
    expect(apiError.message).toContain("'eror-429'");
    for (const name of mockScenarios) expect(apiError.message).toContain(name);
  });

  it('is refused the same way on embeddings', async () => {
    const err = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }, { headers: { 'X-Mock-Scenario': 'nope' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'X-Mock-Scenario' });
  });

  it('still accepts a known name in another case, and an empty header as none', async () => {
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers: { 'X-Mock-Scenario': 'Error-429' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { headers: { 'X-Mock-Scenario': '' } });
    expect(ok.choices).toHaveLength(1);
  });
});

describe('n in test mode', () => {
  it('answers n choices and counts the output of all of them', async () => {
    const one = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const { data: three, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, n: 3 }).withResponse();
    expect(three.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const choice of three.choices) {
      expect(choice.message.content).toBe(one.choices[0]!.message.content);
      expect(choice.finish_reason).toBe('stop');
    }
    const single = one.usage!.completion_tokens;
    expect(single).toBeGreaterThan(0);
    expect(three.usage).toMatchObject({ prompt_tokens: one.usage!.prompt_tokens, completion_tokens: 3 * single, total_tokens: one.usage!.prompt_tokens + 3 * single });
    expect(await usageOf(response.headers.get('x-request-id')!)).toMatchObject({ status: 'ok', test: true, completionTokens: 3 * single });
  });

  it('streams every choice from its role to its finish, and counts them all in the usage chunk', async () => {
    const one = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages, n: 2, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const texts = ['', ''];
    const roles: Array<string | undefined> = [undefined, undefined];
    const finishes: Array<string | null> = [null, null];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        expect(finishes[choice.index]).toBeNull(); // nothing after a choice's finish
        if (choice.delta.role) roles[choice.index] = choice.delta.role;
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
      }
    }
    expect(roles).toEqual(['assistant', 'assistant']);
    expect(texts).toEqual([one.choices[0]!.message.content, one.choices[0]!.message.content]);
    expect(finishes).toEqual(['stop', 'stop']);
    expect(usage).toMatchObject({ completion_tokens: 2 * one.usage!.completion_tokens });
    expect(await usageOf(response.headers.get('x-request-id')!)).toMatchObject({ status: 'ok', completionTokens: 2 * one.usage!.completion_tokens });
  });

  it('caps each choice at max_tokens and counts n times the cap', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, n: 2, max_tokens: 3 });
    expect(res.choices.map((c) => c.finish_reason)).toEqual(['length', 'length']);
    expect(res.usage!.completion_tokens).toBe(6);
  });
});
