import { isObject, optInteger, optNumber, optString } from '../http/json-checks.js';
import type { OpenAIChunk } from './openai-response-schema.js';

// Almost every frame of a stream is one choice with a piece of text. zod
// checks it by building a copy with a result object per field (about a fifth
// of all a 20-chunk stream allocates, and two thirds of the JSON parse's CPU
// again): for that one shape these checks, which ask what openaiChunkSchema
// asks of every field the translator reads, let the parsed JSON through
// as it is. Anything else (usage, tool calls, an error, a type out of place)
// returns undefined and goes through the schema, which also words the error.
// test/providers/openai/plain-chunk.test.ts holds the two to the same answers.

function plainDelta(delta: unknown): boolean {
  if (delta == null) return true;
  if (!isObject(delta)) return false;
  return (
    delta.tool_calls == null &&
    optString(delta.role) &&
    optString(delta.content) &&
    optString(delta.refusal) &&
    optString(delta.reasoning_content) &&
    optString(delta.reasoning)
  );
}

function plainChoice(choice: unknown): boolean {
  return isObject(choice) && optInteger(choice.index) && optString(choice.finish_reason) && plainDelta(choice.delta);
}

/** The frame itself when it is a plain text frame the schema would accept as it is; else undefined. */
export function plainChunk(json: unknown): OpenAIChunk | undefined {
  if (!isObject(json)) return undefined;
  if (json.error !== undefined || json.usage != null) return undefined;
  if (!(optString(json.id) && optNumber(json.created) && optString(json.model) && optString(json.system_fingerprint))) return undefined;
  const choices = json.choices;
  if (choices != null) {
    if (!Array.isArray(choices)) return undefined;
    for (const choice of choices) if (!plainChoice(choice)) return undefined;
  }
  return json as OpenAIChunk;
}
