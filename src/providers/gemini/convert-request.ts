import { requestedMaxTokens, type ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';
import { convertToGeminiPrompt } from './convert-contents.js';
import { toGeminiSchema } from './convert-json-schema.js';
import { convertToGeminiTools } from './convert-tools.js';
import { geminiThinkingConfig } from './thinking-config.js';
import { assertGeminiSupports } from './unsupported-options.js';

/** Google's documented stand-in for a thought signature the history does not have. */
export const PLACEHOLDER_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Gemini 3 and later validate thought signatures on replayed function calls. */
const validatesThoughtSignatures = (model: string): boolean => {
  const match = /gemini-(\d+)/.exec(model);
  return match !== null && Number(match[1]) >= 3;
};

/**
 * `outputCap` is what the gateway reserved for (see CallContext.maxOutputTokens),
 * sent as maxOutputTokens: an answer ends with finish_reason `length` instead
 * of running past what was paid for (Gemini's maxOutputTokens bounds thoughts
 * and answer together).
 */
export function toGeminiRequest(req: ChatRequest, upstreamModel: string, outputCap?: number): Record<string, unknown> {
  assertGeminiSupports(req);
  const prompt = convertToGeminiPrompt(
    req.messages,
    validatesThoughtSignatures(upstreamModel) ? { placeholderThoughtSignature: PLACEHOLDER_THOUGHT_SIGNATURE } : {},
  );
  if (prompt.contents.length === 0) {
    throw new ProviderError('messages must contain at least one non-system message with content', 'client', undefined, undefined, 400);
  }

  const extra = req as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  if (req.temperature != null) config.temperature = req.temperature;
  if (req.top_p != null) config.topP = req.top_p;
  if (typeof extra.top_k === 'number') config.topK = extra.top_k;
  if (req.n != null && req.n > 1) config.candidateCount = req.n;
  const maxTokens = outputCap ?? requestedMaxTokens(req);
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (req.stop != null) config.stopSequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.seed != null) config.seed = req.seed;
  if (req.presence_penalty != null) config.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty != null) config.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.json_schema.schema) config.responseSchema = toGeminiSchema(format.json_schema.schema);
  }
  const thinking = geminiThinkingConfig(req);
  if (thinking) config.thinkingConfig = thinking;

  // Key by key, not { ...prompt, ...tools }: keys added to a copy made by a leading spread give it a hidden class of its own (docs/design.md).
  const body: Record<string, unknown> = {};
  if (prompt.systemInstruction) body.systemInstruction = prompt.systemInstruction;
  body.contents = prompt.contents;
  Object.assign(body, convertToGeminiTools(req));
  if (Object.keys(config).length > 0) body.generationConfig = config;
  if (req.safety_settings?.length) body.safetySettings = req.safety_settings;
  return body;
}
