import type { ToolCall } from '../../contract/chat-request.js';
import type { AssistantMessage, ChatCompletion, ThinkingBlock } from '../../contract/openai-shapes.js';
import type { AnthropicMessageResponse } from './anthropic-response-schema.js';
import { convertAnthropicUsage } from './convert-usage.js';
import { mapAnthropicStopReason } from './map-stop-reason.js';

export interface AnthropicResponseOptions {
  upstreamModel: string;
  now: number;
  jsonToolName?: string;
}

export function convertAnthropicResponse(res: AnthropicMessageResponse, options: AnthropicResponseOptions): ChatCompletion {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  const signed: ThinkingBlock[] = [];
  let json: string | undefined;

  for (const block of res.content) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'thinking') {
      thoughts.push(block.thinking);
      if (block.signature) signed.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') signed.push({ type: 'redacted_thinking', data: block.data });
    else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      if (block.name === options.jsonToolName) json = args;
      else toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    }
  }

  const message: AssistantMessage = {
    role: 'assistant',
    content: json ?? (texts.length > 0 ? texts.join('') : null),
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts.length > 0) message.reasoning_content = thoughts.join('');
  if (signed.length > 0) message.thinking_blocks = signed;

  let finish = mapAnthropicStopReason(res.stop_reason);
  // The JSON tool's call is the answer: the turn ended normally.
  if (finish === 'tool_calls' && toolCalls.length === 0) finish = 'stop';

  return {
    id: res.id,
    object: 'chat.completion',
    created: options.now,
    model: res.model ?? options.upstreamModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish, ...(res.stop_sequence ? { stop_sequence: res.stop_sequence } : {}) }],
    usage: convertAnthropicUsage(res.usage),
  };
}
