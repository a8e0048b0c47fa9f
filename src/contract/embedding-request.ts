import { z } from 'zod';
import { identifierText } from './text-limits.js';

export const embeddingRequestSchema = z.looseObject({
  model: identifierText(),
  input: z.union([
    z.string().min(1, 'must not be empty'),
    z.array(z.string().min(1, 'must not contain empty strings')).min(1).max(2048),
    z.array(z.number().int().nonnegative()).min(1),
    z.array(z.array(z.number().int().nonnegative()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().max(8192).optional(),
  user: identifierText().optional(),
});

export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

/** Every input as a list of texts (token arrays are kept as space-joined ids for hashing and counting). */
export function embeddingInputs(req: EmbeddingRequest): string[] {
  const input = req.input;
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (typeof input[0] === 'string') return input as string[];
  if (typeof input[0] === 'number') return [(input as number[]).join(' ')];
  return (input as number[][]).map((ids) => ids.join(' '));
}
