import type { z } from 'zod';
import { GatewayError } from './errors.js';
import { MAX_JSON_DEPTH, tooDeepAt } from './validation/json-depth.js';

/** Parses a request body, or throws a 400 that names the first wrong field. */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  const deep = tooDeepAt(body);
  if (deep) {
    const param = deep.join('.');
    throw new GatewayError('invalid_request', `Invalid value for '${param || 'body'}': JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, param ? { param } : {});
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : `Invalid value for '${param || 'body'}': ${issue.message}.`;
  throw new GatewayError('invalid_request', message, param ? { param } : {});
}
