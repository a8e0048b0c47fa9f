// The type checks of the guards that let plain upstream JSON past zod's copy
// (openai/plain-chunk.ts, openai/plain-completion.ts,
// anthropic/plain-delta.ts, gemini/plain-response.ts): what zod's
// `.nullish()` fields accept.

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
export const optString = (v: unknown): boolean => v == null || typeof v === 'string';
export const optNumber = (v: unknown): boolean => v == null || typeof v === 'number';
export const optInteger = (v: unknown): boolean => v == null || Number.isInteger(v);
/** A token count: `z.number().int().nonnegative().nullish()`. */
export const optCount = (v: unknown): boolean => v == null || (Number.isInteger(v) && (v as number) >= 0);
