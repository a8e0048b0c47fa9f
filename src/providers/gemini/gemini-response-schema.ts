import { z } from 'zod';

// What generateContent / streamGenerateContent send back, checked before use.

const partSchema = z.looseObject({
  text: z.string().nullish(),
  thought: z.boolean().nullish(),
  functionCall: z
    .looseObject({ name: z.string(), args: z.record(z.string(), z.unknown()).nullish(), id: z.string().nullish() })
    .nullish(),
});
export type GeminiResponsePart = z.infer<typeof partSchema>;

export const geminiUsageSchema = z.looseObject({
  promptTokenCount: z.number().int().nonnegative().nullish(),
  candidatesTokenCount: z.number().int().nonnegative().nullish(),
  totalTokenCount: z.number().int().nonnegative().nullish(),
  thoughtsTokenCount: z.number().int().nonnegative().nullish(),
  cachedContentTokenCount: z.number().int().nonnegative().nullish(),
  toolUsePromptTokenCount: z.number().int().nonnegative().nullish(),
});
export type GeminiUsage = z.infer<typeof geminiUsageSchema>;

export const geminiCandidateSchema = z.looseObject({
  index: z.number().int().nonnegative().nullish(),
  content: z.looseObject({ role: z.string().nullish(), parts: z.array(partSchema).nullish() }).nullish(),
  finishReason: z.string().nullish(),
});
export type GeminiCandidate = z.infer<typeof geminiCandidateSchema>;

export const geminiResponseSchema = z.looseObject({
  candidates: z.array(geminiCandidateSchema).nullish(),
  promptFeedback: z.looseObject({ blockReason: z.string().nullish() }).nullish(),
  usageMetadata: geminiUsageSchema.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
  // A stream can end in an error object instead of a response.
  error: z.unknown().optional(),
});
export type GeminiResponse = z.infer<typeof geminiResponseSchema>;

export const geminiBatchEmbedResponseSchema = z.looseObject({
  embeddings: z.array(z.looseObject({ values: z.array(z.number()) })),
});

export const geminiCountTokensResponseSchema = z.looseObject({ totalTokens: z.number().int().nonnegative() });
