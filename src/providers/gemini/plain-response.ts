import { isObject, optCount, optString } from '../http/json-checks.js';
import type { GeminiResponse } from './gemini-response-schema.js';

// Every frame of a streamGenerateContent stream is a whole response with
// usage attached, which geminiResponseSchema copied field by field. For the
// common frame (text parts, no function call, no prompt feedback, no error)
// these checks ask what the schema asks and let the parsed JSON through as it
// is; anything else still goes through the schema (see openai/plain-chunk.ts
// for why, and test/providers/gemini/plain-response.test.ts, which holds the
// two to the same answers).

const USAGE_COUNTS = [
  'promptTokenCount',
  'candidatesTokenCount',
  'totalTokenCount',
  'thoughtsTokenCount',
  'cachedContentTokenCount',
  'toolUsePromptTokenCount',
] as const;

function plainPart(part: unknown): boolean {
  return isObject(part) && part.functionCall == null && optString(part.text) && (part.thought == null || typeof part.thought === 'boolean');
}

function plainCandidate(candidate: unknown): boolean {
  if (!isObject(candidate) || !optCount(candidate.index) || !optString(candidate.finishReason)) return false;
  const content = candidate.content;
  if (content == null) return true;
  if (!isObject(content) || !optString(content.role)) return false;
  const parts = content.parts;
  return parts == null || (Array.isArray(parts) && parts.every(plainPart));
}

function plainUsage(usage: unknown): boolean {
  return usage == null || (isObject(usage) && USAGE_COUNTS.every((key) => optCount(usage[key])));
}

/** The frame itself when it is a plain text frame the schema would accept as it is; else undefined. */
export function plainResponse(json: unknown): GeminiResponse | undefined {
  if (!isObject(json) || json.error !== undefined || json.promptFeedback != null) return undefined;
  if (!(optString(json.modelVersion) && optString(json.responseId) && plainUsage(json.usageMetadata))) return undefined;
  const candidates = json.candidates;
  if (candidates != null && !(Array.isArray(candidates) && candidates.every(plainCandidate))) return undefined;
  return json as GeminiResponse;
}
