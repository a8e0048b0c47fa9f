import { z } from 'zod';
import { identifierText } from '../../../contract/text-limits.js';

// Google's GenerateContentRequest as the Gemini door accepts it. Loose
// objects: fields the gateway has no use for (mediaResolution, labels...)
// pass validation and are ignored. The door adds `model` (from the path)
// and `stream` (from the action) to the body before admission, so a
// refused request's usage row still names the model.

const inlineData = z.looseObject({ mimeType: z.string().min(1), data: z.string() });
const fileData = z.looseObject({ fileUri: z.string().min(1), mimeType: z.string().optional() });
const functionCall = z.looseObject({
  name: identifierText(),
  args: z.record(z.string(), z.unknown()).nullish(),
  id: identifierText().optional(),
});
const functionResponse = z.looseObject({
  name: identifierText(),
  response: z.record(z.string(), z.unknown()).nullish(),
  id: identifierText().optional(),
});

export const geminiPart = z.looseObject({
  text: z.string().optional(),
  inlineData: inlineData.optional(),
  fileData: fileData.optional(),
  functionCall: functionCall.optional(),
  functionResponse: functionResponse.optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
});
export type GeminiPart = z.infer<typeof geminiPart>;

export const geminiContent = z.looseObject({
  role: z.enum(['user', 'model']).optional(),
  parts: z.array(geminiPart).min(1, 'must not be empty'),
});
export type GeminiContent = z.infer<typeof geminiContent>;

const functionDeclaration = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  parametersJsonSchema: z.record(z.string(), z.unknown()).optional(),
});
export type FunctionDeclaration = z.infer<typeof functionDeclaration>;

export const geminiTool = z.looseObject({ functionDeclarations: z.array(functionDeclaration).optional() });
export type GeminiTool = z.infer<typeof geminiTool>;

const thinkingConfig = z.looseObject({
  thinkingBudget: z.number().int().min(-1).optional(),
  includeThoughts: z.boolean().optional(),
  thinkingLevel: z.string().optional(),
});

export const generationConfig = z.looseObject({
  maxOutputTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().positive().optional(),
  stopSequences: z.array(z.string()).max(5).optional(),
  candidateCount: z.number().int().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.number().int().optional(),
  thinkingConfig: thinkingConfig.optional(),
  responseMimeType: z.string().optional(),
  responseSchema: z.record(z.string(), z.unknown()).optional(),
  responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
  responseModalities: z.array(z.string()).optional(),
  responseLogprobs: z.boolean().optional(),
});
export type GenerationConfig = z.infer<typeof generationConfig>;

export const generateContentSchema = z.looseObject({
  model: identifierText(),
  stream: z.boolean(),
  contents: z.array(geminiContent).min(1, 'must contain at least one content'),
  systemInstruction: z.union([geminiContent.extend({ role: z.string().optional() }), z.string()]).optional(),
  tools: z.array(geminiTool).optional(),
  toolConfig: z
    .looseObject({
      functionCallingConfig: z
        .looseObject({
          mode: z.enum(['AUTO', 'ANY', 'NONE', 'VALIDATED', 'MODE_UNSPECIFIED']).optional(),
          allowedFunctionNames: z.array(identifierText()).optional(),
        })
        .optional(),
    })
    .optional(),
  generationConfig: generationConfig.optional(),
  safetySettings: z.array(z.looseObject({})).optional(),
  cachedContent: z.string().optional(),
});
export type GenerateContentRequest = z.infer<typeof generateContentSchema>;

/** `countTokens` takes either bare `contents` or a whole `generateContentRequest`. */
export const countTokensSchema = z.looseObject({
  model: identifierText(),
  contents: z.array(geminiContent).optional(),
  generateContentRequest: generateContentSchema.omit({ model: true, stream: true }).extend({ model: z.string().optional() }).optional(),
});
export type CountTokensRequest = z.infer<typeof countTokensSchema>;
