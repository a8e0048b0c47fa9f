import type { ChatCompletionChunk, Usage } from '../../contract/openai-shapes.js';

interface ChoiceText {
  index: number;
  content: string;
  reasoning: string;
  toolCalls: Array<{ id?: string; name: string; arguments: string }>;
  finishReason: string | null;
}

/**
 * A stream's answer as one document for the request explorer: each
 * choice's text, reasoning and tool calls joined from their deltas. Only
 * built for projects that capture payloads.
 */
export class StreamTranscript {
  readonly #choices = new Map<number, ChoiceText>();
  #usage: Usage | null = null;

  add(chunk: ChatCompletionChunk): void {
    if (chunk.usage) this.#usage = chunk.usage;
    for (const choice of chunk.choices) {
      let c = this.#choices.get(choice.index);
      if (!c) this.#choices.set(choice.index, (c = { index: choice.index, content: '', reasoning: '', toolCalls: [], finishReason: null }));
      const d = choice.delta;
      if (d.content) c.content += d.content;
      if (d.reasoning_content) c.reasoning += d.reasoning_content;
      for (const t of d.tool_calls ?? []) {
        const slot = (c.toolCalls[t.index ?? c.toolCalls.length] ??= { name: '', arguments: '' });
        if (t.id) slot.id = t.id;
        if (t.function?.name) slot.name += t.function.name;
        if (t.function?.arguments) slot.arguments += t.function.arguments;
      }
      if (choice.finish_reason) c.finishReason = choice.finish_reason;
    }
  }

  result(): unknown {
    const choices = [...this.#choices.values()].sort((a, b) => a.index - b.index).map((c) => ({
      index: c.index,
      content: c.content,
      ...(c.reasoning ? { reasoning: c.reasoning } : {}),
      ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls.filter(Boolean) } : {}),
      finish_reason: c.finishReason,
    }));
    return { stream: true, choices, ...(this.#usage ? { usage: this.#usage } : {}) };
  }
}
