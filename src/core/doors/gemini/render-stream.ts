import type { ChatCompletionChunk, FinishReason, Usage } from '../../../contract/openai-shapes.js';
import { toGatewayError } from '../../routing/to-gateway-error.js';
import { googleErrorBody, type GoogleErrorBody } from './render-error.js';
import { callArgs, type GenerateContentResponse, type GeminiResponsePart, geminiFinishReason, type RenderOptions, usageMetadata } from './render-response.js';

interface CallInProgress {
  id: string;
  name: string;
  args: string;
}

/**
 * Chunk batches as GenerateContentResponse events: one per batch that
 * carried text, then a last one with the function calls (Gemini sends a call
 * whole, so their argument pieces are gathered), finishReason and
 * usageMetadata. A failure after the stream began becomes one error event
 * in Google's shape, which the GenAI SDK raises as an ApiError.
 */
export async function* geminiStreamEvents(
  batches: AsyncGenerator<ChatCompletionChunk[], void, undefined>,
  options: RenderOptions,
): AsyncGenerator<GenerateContentResponse | GoogleErrorBody, void, undefined> {
  let responseId = '';
  let finish: FinishReason | null = null;
  let usage: Usage | undefined;
  const calls: CallInProgress[] = [];
  const event = (parts: GeminiResponsePart[]): GenerateContentResponse => ({
    candidates: [{ content: { role: 'model', parts }, index: 0 }],
    modelVersion: options.model,
    responseId,
  });
  try {
    for await (const batch of batches) {
      const parts: GeminiResponsePart[] = [];
      const add = (text: string, thought: boolean) => {
        const last = parts[parts.length - 1];
        if (last && (last.thought === true) === thought) last.text = `${last.text as string}${text}`;
        else parts.push(thought ? { text, thought: true } : { text });
      };
      for (const chunk of batch) {
        responseId ||= chunk.id;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        const d = choice.delta;
        if (d.reasoning_content && options.includeThoughts) add(d.reasoning_content, true);
        if (d.content) add(d.content, false);
        for (const t of d.tool_calls ?? []) {
          const call = (calls[t.index] ??= { id: '', name: '', args: '' });
          if (t.id) call.id = t.id;
          if (t.function?.name) call.name += t.function.name;
          if (t.function?.arguments) call.args += t.function.arguments;
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (parts.length > 0) yield event(parts);
    }
    const parts: GeminiResponsePart[] = calls.filter(Boolean).map((c) => ({ functionCall: { ...(c.id ? { id: c.id } : {}), name: c.name, args: callArgs(c.args) } }));
    const last = event(parts.length > 0 ? parts : [{ text: '' }]);
    last.candidates[0]!.finishReason = geminiFinishReason(finish);
    if (usage) last.usageMetadata = usageMetadata(usage);
    yield last;
  } catch (e) {
    yield googleErrorBody(toGatewayError(e));
  }
}

/** `alt=sse`: each event a `data:` line, as Google sends them. */
export async function* sseEvents(events: AsyncGenerator<unknown, void, undefined>): AsyncGenerator<string, void, undefined> {
  for await (const e of events) yield `data: ${JSON.stringify(e)}\r\n\r\n`;
}

/** Without `alt=sse`: one JSON array written element by element, as Google's default stream is. */
export async function* jsonArrayEvents(events: AsyncGenerator<unknown, void, undefined>): AsyncGenerator<string, void, undefined> {
  let first = true;
  for await (const e of events) {
    yield `${first ? '[' : ',\r\n'}${JSON.stringify(e)}`;
    first = false;
  }
  yield first ? '[]' : ']';
}
