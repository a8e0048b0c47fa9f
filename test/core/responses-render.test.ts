// The Responses door's pure parts: a Responses body as the internal chat
// request, and chat chunks as the typed stream events, each event valid
// against OpenAI's OpenAPI spec.
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChunkDelta } from '../../src/contract/openai-shapes.js';
import { responsesRequestSchema } from '../../src/contract/responses-request.js';
import { ResponseEventRenderer } from '../../src/core/doors/responses/render-events.js';
import { toChatRequest } from '../../src/core/doors/responses/to-chat.js';
import { openapiErrors } from '../helpers/openapi.js';

const parse = (body: Record<string, unknown>) => responsesRequestSchema.parse({ model: 'm', ...body });

const chunk = (delta: ChunkDelta, finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe('a Responses body as the internal chat request', () => {
  it('joins an assistant message and the function calls after it into one turn; replayed reasoning is left out', () => {
    const chat = toChatRequest(
      parse({
        instructions: 'Be terse.',
        input: [
          { role: 'user', content: 'Weather in Lyon and Paris?' },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: 'a', name: 'w', arguments: '{"city":"Lyon"}' },
          { type: 'function_call', call_id: 'b', name: 'w', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'a', output: '21' },
          { type: 'function_call_output', call_id: 'b', output: [{ type: 'input_text', text: '19' }] },
        ],
      }),
    );
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Weather in Lyon and Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'w', arguments: '{"city":"Lyon"}' } },
          { id: 'b', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: '21' },
      { role: 'tool', tool_call_id: 'b', content: '19' },
    ]);
  });

  it('maps the output cap, the effort, the text format and the tool choice; earlier turns come first', () => {
    const prior = [{ type: 'message' as const, role: 'user' as const, content: 'earlier' }];
    const chat = toChatRequest(
      parse({
        input: 'now',
        max_output_tokens: 99,
        reasoning: { effort: 'medium' },
        text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true } },
        tool_choice: { type: 'function', name: 'w' },
        store: false,
        metadata: { a: 'b' },
      }),
      prior,
    );
    expect(chat).toEqual({
      model: 'm',
      messages: [
        { role: 'user', content: 'earlier' },
        { role: 'user', content: 'now' },
      ],
      max_completion_tokens: 99,
      reasoning_effort: 'medium',
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
      tool_choice: { type: 'function', function: { name: 'w' } },
    });
  });
});

describe('chat chunks as Responses stream events', () => {
  it('renders reasoning, text and two function calls as items in order, numbered from 0, each valid', () => {
    const renderer = new ResponseEventRenderer(parse({ input: 'x' }), 'resp_1', 1);
    const events = [
      ...renderer.start(),
      ...renderer.batch([chunk({ role: 'assistant', reasoning_content: 'Think' }), chunk({ reasoning_content: 'ing.' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' })]),
      ...renderer.batch([
        chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'w', arguments: '{"c' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '":1}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'v', arguments: '{}' } }] }),
        chunk({}, 'tool_calls'),
      ]),
    ];
    const end = renderer.finish({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    events.push(...end.events);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect(openapiErrors('ResponseStreamEvent', e), e.type).toEqual([]);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(openapiErrors('Response', end.response)).toEqual([]);
    expect(end.response.output).toMatchObject([
      { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Thinking.' }], status: 'completed' },
      { type: 'message', content: [{ type: 'output_text', text: 'Hello' }], status: 'completed' },
      { type: 'function_call', call_id: 'call_a', name: 'w', arguments: '{"c":1}', status: 'completed' },
      { type: 'function_call', call_id: 'call_b', name: 'v', arguments: '{}', status: 'completed' },
    ]);
    expect(end.response.usage).toMatchObject({ input_tokens: 5, output_tokens: 7, total_tokens: 12 });
    // The created event's snapshot did not grow with the answer.
    expect(events[0]!.response).toMatchObject({ status: 'in_progress', output: [] });
  });
});
