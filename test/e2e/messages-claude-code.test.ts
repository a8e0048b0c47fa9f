// A recorded Claude Code session (test/fixtures/claude-code-session.json:
// the quota probe, a streamed turn calling a tool with system blocks and
// tools marked for caching, count_tokens, the tool_result turn) replayed
// through the Messages door with @anthropic-ai/sdk, once per upstream wire:
// every step succeeds, every stream parses, and an Anthropic upstream gets
// Claude Code's cache breakpoints, betas and user id as they were sent.
import { readFileSync } from 'node:fs';
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { Script } from '../emulators/index.js';
import { expectGrammar, useMessagesGateway, usageRow, WIRES } from './messages-support.js';

interface Step {
  name: string;
  endpoint: 'messages' | 'count_tokens';
  body: Record<string, unknown>;
  upstream: Script;
}
const session = JSON.parse(readFileSync(new URL('../fixtures/claude-code-session.json', import.meta.url), 'utf8')) as {
  headers: Record<string, string>;
  steps: Step[];
};

const env = useMessagesGateway();

/** The step's body for this replay: the route's model, the tool_use id the session got. */
const bodyFor = (step: Step, model: string, toolUseId: string): Record<string, unknown> =>
  JSON.parse(JSON.stringify({ ...step.body, model }).replaceAll('{{tool_use_id}}', toolUseId));

describe.each(WIRES)('a Claude Code session × %s upstream', (wire) => {
  it('replays every step: the SDK parses each answer and stream, each turn is billed', async () => {
    const e = env.emulator(wire);
    const client = env.clientWith(env.liveKey(), { defaultHeaders: session.headers });
    const model = env.model(wire);
    let toolUseId = '';
    for (const step of session.steps) {
      e.setScript(step.upstream);
      const body = bodyFor(step, model, toolUseId);
      if (step.endpoint === 'count_tokens') {
        const { data, response } = await client.messages.countTokens(body as unknown as Anthropic.MessageCountTokensParams).withResponse();
        expect(data.input_tokens, step.name).toBeGreaterThan(0);
        expect(response.headers.get('x-gateway-token-count'), step.name).toBe(wire === 'openai' ? 'estimate' : 'exact');
        continue;
      }
      if (body.stream) {
        const stream = client.messages.stream(body as unknown as Anthropic.MessageStreamParams);
        const seen: Anthropic.MessageStreamEvent[] = [];
        stream.on('streamEvent', (event) => seen.push(event));
        const final = await stream.finalMessage();
        expectGrammar(seen);
        const text = final.content.find((b) => b.type === 'text');
        expect(text, step.name).toMatchObject({ text: step.upstream.text });
        const use = final.content.find((b) => b.type === 'tool_use');
        if (step.upstream.toolCalls) {
          expect(final.stop_reason, step.name).toBe('tool_use');
          expect(use, step.name).toMatchObject({ name: 'Read', input: step.upstream.toolCalls[0]!.arguments });
          toolUseId = (use as Anthropic.ToolUseBlock).id;
        } else {
          expect(final.stop_reason, step.name).toBe('end_turn');
        }
        const usage = step.upstream.usage!;
        // What each wire reports of the cache: Anthropic reads and writes, Gemini and OpenAI reads.
        expect(final.usage, step.name).toMatchObject({
          output_tokens: usage.output,
          cache_read_input_tokens: usage.cached ?? 0,
          cache_creation_input_tokens: wire === 'anthropic' ? (usage.cacheWrite ?? 0) : 0,
        });
        const row = await usageRow(env.gw(), (await stream.withResponse()).response.headers.get('x-request-id')!);
        expect(row, step.name).toMatchObject({ endpoint: 'messages', status: 'ok', stream: true, promptTokens: usage.input, completionTokens: usage.output });
      } else {
        const message = await client.messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming);
        expect(message, step.name).toMatchObject({ type: 'message', stop_reason: 'max_tokens', content: [{ type: 'text', text: 'Hi' }] });
      }
    }
    expect(toolUseId).not.toBe('');
    // OpenAI refuses fields it does not know, nested ones too: the cache breakpoints stay behind.
    if (wire === 'openai') expect(JSON.stringify(e.requests.map((r) => r.body))).not.toMatch(/cache_control|thinking_blocks|is_error/);
    if (wire !== 'anthropic') return;

    // Natively: cache breakpoints where Claude Code put them, its betas, its user id.
    const [probe, first, count, last] = e.requests;
    expect(probe!.body).toMatchObject({ max_tokens: 1, metadata: { user_id: expect.stringMatching(/^user_/) } });
    expect(first!.headers['anthropic-beta']).toBe(session.headers['anthropic-beta']);
    const sentFirst = first!.body;
    const recorded = session.steps[1]!.body as { system: unknown; tools: unknown[]; messages: unknown[]; metadata: unknown };
    expect(sentFirst.system).toEqual(recorded.system);
    expect(sentFirst.messages).toEqual(recorded.messages);
    expect(sentFirst.tools).toHaveLength(recorded.tools.length);
    expect(sentFirst.tools.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(sentFirst.metadata).toEqual(recorded.metadata);
    expect(count!.path).toBe('/v1/messages/count_tokens');
    expect(last!.body.messages.at(-1).content[0]).toMatchObject({ type: 'tool_result', tool_use_id: toolUseId, cache_control: { type: 'ephemeral' } });
  });
});
