import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ToolCall, ToolChoice } from '../../../contract/chat-request.js';
import { GatewayError } from '../../errors.js';
import { geminiSchemaToJsonSchema } from './gemini-schema.js';
import type { GeminiContent, GeminiPart, GeminiTool, GenerateContentRequest, GenerationConfig } from './generate-request.js';

// A GenerateContentRequest as the gateway's internal chat request, which
// every upstream adapter takes. What cannot be expressed is a 400 naming the
// field, before any reservation, never a silent drop.

const invalid = (param: string, message: string) => new GatewayError('invalid_request', `Invalid value for '${param}': ${message}`, { param });

const IMAGE_EXTENSION = /\.(png|jpe?g|gif|webp|heic|heif)(\?|#|$)/i;
const AUDIO_FORMATS: Record<string, string> = { 'audio/wav': 'wav', 'audio/x-wav': 'wav', 'audio/mp3': 'mp3', 'audio/mpeg': 'mp3' };

function mediaPart(part: GeminiPart, where: string): ContentPart {
  if (part.inlineData) {
    const { mimeType, data } = part.inlineData;
    if (mimeType.startsWith('image/')) return { type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } };
    if (mimeType.startsWith('audio/')) return { type: 'input_audio', input_audio: { data, format: AUDIO_FORMATS[mimeType] ?? mimeType.slice('audio/'.length) } };
    return { type: 'file', file: { file_data: `data:${mimeType};base64,${data}`, filename: 'file' } };
  }
  const file = part.fileData!;
  if (file.mimeType?.startsWith('image/') || (!file.mimeType && IMAGE_EXTENSION.test(file.fileUri))) {
    return { type: 'image_url', image_url: { url: file.fileUri } };
  }
  throw invalid(`${where}.fileData`, `only images can be sent by URI (got ${file.mimeType ?? 'an unknown type'}); send other files as inlineData.`);
}

const KNOWN_PART_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'];

function unsupportedPart(part: GeminiPart, where: string): GatewayError {
  const names = Object.keys(part).filter((k) => !['thought', 'thoughtSignature', 'videoMetadata', 'partMetadata'].includes(k));
  return invalid(where, names.length > 0 ? `parts of kind ${names.join(', ')} are not supported by this gateway.` : `a part must hold one of ${KNOWN_PART_FIELDS.join(', ')}.`);
}

interface PendingCall {
  id: string;
  name: string;
  answered: boolean;
}

/** Contents as chat messages: model turns become assistant turns, functionResponse parts tool messages answering the call they name. */
function toMessages(contents: GeminiContent[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let pending: PendingCall[] = [];
  contents.forEach((content, i) => {
    const where = `contents.${i}`;
    if (content.role === 'model') {
      const texts: string[] = [];
      const thoughts: string[] = [];
      const calls: ToolCall[] = [];
      content.parts.forEach((part, j) => {
        if (part.functionCall) {
          const { name, args, id } = part.functionCall;
          calls.push({ id: id ?? `call_${i}_${j}`, type: 'function', function: { name, arguments: JSON.stringify(args ?? {}) } });
        } else if (part.text !== undefined) (part.thought ? thoughts : texts).push(part.text);
        else if (part.inlineData || part.fileData) throw invalid(`${where}.parts.${j}`, 'a model turn can only hold text and functionCall parts.');
        else if (!part.functionResponse) throw unsupportedPart(part, `${where}.parts.${j}`);
        else throw invalid(`${where}.parts.${j}`, 'functionResponse parts belong in user turns.');
      });
      pending = calls.map((c) => ({ id: c.id, name: c.function.name, answered: false }));
      messages.push({
        role: 'assistant',
        content: texts.length > 0 ? texts.join('') : null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
        ...(thoughts.length > 0 ? { reasoning_content: thoughts.join('') } : {}),
      });
      return;
    }
    const parts: ContentPart[] = [];
    content.parts.forEach((part, j) => {
      const at = `${where}.parts.${j}`;
      if (part.functionResponse) {
        const { name, response, id } = part.functionResponse;
        const call = pending.find((c) => !c.answered && (id ? c.id === id : c.name === name)) ?? pending.find((c) => !c.answered && c.name === name);
        if (!call) throw invalid(`${at}.functionResponse`, `it answers no functionCall '${name}' of the model turn before it.`);
        call.answered = true;
        // OpenAI wants tool results right after the assistant turn that called them.
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(response ?? {}) });
      } else if (part.text !== undefined) {
        if (!part.thought) parts.push({ type: 'text', text: part.text });
      } else if (part.inlineData || part.fileData) parts.push(mediaPart(part, at));
      else if (part.functionCall) throw invalid(at, 'functionCall parts belong in model turns.');
      else throw unsupportedPart(part, at);
    });
    if (parts.length === 0) return;
    const only = parts[0]!;
    messages.push({ role: 'user', content: parts.length === 1 && only.type === 'text' ? only.text : parts });
  });
  return messages;
}

function systemText(system: GenerateContentRequest['systemInstruction']): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') return system || undefined;
  const text = system.parts.map((p, j) => {
    if (p.text === undefined) throw invalid(`systemInstruction.parts.${j}`, 'a system instruction can only hold text.');
    return p.text;
  });
  return text.join('\n') || undefined;
}

const WEB_SEARCH_TOOLS = new Set(['googleSearch', 'googleSearchRetrieval']);

function toTools(tools: GeminiTool[] | undefined): { tools: FunctionTool[]; webSearch: boolean } {
  const out: FunctionTool[] = [];
  let webSearch = false;
  (tools ?? []).forEach((tool, i) => {
    for (const [kind, value] of Object.entries(tool)) {
      if (value == null) continue;
      if (WEB_SEARCH_TOOLS.has(kind)) webSearch = true;
      else if (kind !== 'functionDeclarations') {
        throw invalid(`tools.${i}.${kind}`, `the ${kind} tool is not supported by this gateway; use functionDeclarations, or googleSearch for web search.`);
      }
    }
    for (const fn of tool.functionDeclarations ?? []) {
      const parameters = fn.parametersJsonSchema ?? (fn.parameters ? geminiSchemaToJsonSchema(fn.parameters) : undefined);
      out.push({
        type: 'function',
        function: { name: fn.name, ...(fn.description ? { description: fn.description } : {}), ...(parameters ? { parameters } : {}) },
      });
    }
  });
  return { tools: out, webSearch };
}

function toToolChoice(req: GenerateContentRequest, tools: FunctionTool[]): { choice?: ToolChoice; tools: FunctionTool[] } {
  const config = req.toolConfig?.functionCallingConfig;
  if (!config?.mode || tools.length === 0) return { tools };
  if (config.mode === 'NONE') return { choice: 'none', tools };
  if (config.mode !== 'ANY') return { choice: 'auto', tools };
  const allowed = config.allowedFunctionNames ?? [];
  if (allowed.length === 0) return { choice: 'required', tools };
  for (const name of allowed) {
    if (!tools.some((t) => t.function.name === name)) throw invalid('toolConfig.functionCallingConfig.allowedFunctionNames', `'${name}' is not a declared function.`);
  }
  if (allowed.length === 1) return { choice: { type: 'function', function: { name: allowed[0]! } }, tools };
  return { choice: 'required', tools: tools.filter((t) => allowed.includes(t.function.name)) };
}

/**
 * thinkingConfig as the internal request's reasoning controls: the budget in
 * tokens where the upstream takes one (Anthropic, Gemini), and the effort it
 * falls in for those that take an effort (OpenAI wire). -1 is Gemini's
 * "the model decides": no budget, a medium effort.
 */
function thinkingFields(thinking: NonNullable<GenerationConfig['thinkingConfig']>): Record<string, unknown> {
  const level = thinking.thinkingLevel?.toLowerCase();
  if (level && level !== 'thinking_level_unspecified') {
    if (!['minimal', 'low', 'medium', 'high'].includes(level)) throw invalid('generationConfig.thinkingConfig.thinkingLevel', `'${thinking.thinkingLevel}' is not one of MINIMAL, LOW, MEDIUM, HIGH.`);
    return { reasoning_effort: level };
  }
  const budget = thinking.thinkingBudget;
  if (budget === undefined) return thinking.includeThoughts ? { think: true } : {};
  if (budget === -1) return { reasoning_effort: 'medium' };
  if (budget === 0) return { thinking_budget: 0, reasoning_effort: 'none' };
  return { thinking_budget: budget, reasoning_effort: budget <= 1024 ? 'low' : budget <= 2048 ? 'medium' : 'high' };
}

function generationFields(config: GenerationConfig | undefined): Partial<ChatRequest> {
  if (!config) return {};
  const out: Record<string, unknown> = {};
  if (config.candidateCount !== undefined && config.candidateCount !== 1) throw invalid('generationConfig.candidateCount', 'only 1 candidate is supported.');
  if (config.responseLogprobs) throw invalid('generationConfig.responseLogprobs', 'log probabilities are not supported by this gateway.');
  const modalities = (config.responseModalities ?? []).filter((m) => m.toUpperCase() !== 'TEXT' && m !== 'MODALITY_UNSPECIFIED');
  if (modalities.length > 0) throw invalid('generationConfig.responseModalities', `only TEXT output is supported (asked for ${modalities.join(', ')}).`);
  if (config.maxOutputTokens !== undefined) out.max_tokens = config.maxOutputTokens;
  if (config.temperature !== undefined) out.temperature = config.temperature;
  if (config.topP !== undefined) out.top_p = config.topP;
  if (config.topK !== undefined) out.top_k = config.topK;
  if (config.stopSequences?.length) out.stop = config.stopSequences;
  if (config.presencePenalty !== undefined) out.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) out.frequency_penalty = config.frequencyPenalty;
  if (config.seed !== undefined) out.seed = config.seed;

  const mime = config.responseMimeType;
  const schema = config.responseJsonSchema ?? (config.responseSchema ? geminiSchemaToJsonSchema(config.responseSchema) : undefined);
  if (mime === 'application/json') {
    out.response_format = schema ? { type: 'json_schema', json_schema: { name: 'response', schema } } : { type: 'json_object' };
  } else if (mime !== undefined && mime !== 'text/plain') {
    throw invalid('generationConfig.responseMimeType', `'${mime}' is not supported; use application/json or text/plain.`);
  } else if (schema) {
    throw invalid(config.responseJsonSchema ? 'generationConfig.responseJsonSchema' : 'generationConfig.responseSchema', 'a response schema needs responseMimeType application/json.');
  }

  if (config.thinkingConfig) Object.assign(out, thinkingFields(config.thinkingConfig));
  return out as Partial<ChatRequest>;
}

/** The chat request a GenerateContentRequest means. */
export function geminiToChat(req: GenerateContentRequest): ChatRequest {
  if (req.cachedContent !== undefined) {
    throw invalid('cachedContent', 'explicit context caches are not supported: they live in one Google project, and this gateway may route to any upstream. Send the contents instead (upstream prompt caching still applies).');
  }
  const system = systemText(req.systemInstruction);
  const messages = toMessages(req.contents);
  if (messages.length === 0) throw invalid('contents', 'no content holds anything to send.');
  const declared = toTools(req.tools);
  const { choice, tools } = toToolChoice(req, declared.tools);
  return {
    model: req.model,
    messages: system ? [{ role: 'system', content: system }, ...messages] : messages,
    ...(req.stream ? { stream: true } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(choice ? { tool_choice: choice } : {}),
    ...(declared.webSearch ? { deepsearch: true } : {}),
    ...(req.safetySettings?.length ? { safety_settings: req.safetySettings } : {}),
    ...generationFields(req.generationConfig),
  };
}
