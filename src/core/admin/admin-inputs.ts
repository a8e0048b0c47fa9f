import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { MONEY_SCALE } from '../money.js';
import { identifierText, nameText, reasonText } from '../../contract/text-limits.js';

// zod pieces shared by the operator actions. Every action validates its whole
// input before its first write, so an invalid input changes nothing.

const DECIMAL = /^-?\d+(\.\d+)?$/;

const decimal = (scale: number) =>
  z
    .string()
    .trim()
    .regex(DECIMAL, 'must be a decimal number such as "12.5"')
    .refine((v) => (v.split('.')[1] ?? '').replace(/0+$/, '').length <= scale, `must have at most ${scale} decimals`);

/** An amount of money as a decimal string, any sign. */
export const moneyInput = decimal(MONEY_SCALE).refine((v) => v.replace(/^-/, '').split('.')[0]!.length <= 18, 'is too large');
export const nonNegativeMoney = moneyInput.refine((v) => !v.startsWith('-'), 'must not be negative');
export const positiveMoney = moneyInput.refine((v) => !v.startsWith('-') && /[1-9]/.test(v), 'must be greater than zero');
/** A price per 1M tokens: at most 6 decimals, never negative. */
export const priceInput = decimal(6)
  .refine((v) => !v.startsWith('-'), 'must not be negative')
  .refine((v) => v.split('.')[0]!.length <= 14, 'is too large');

export const nameInput = nameText().min(1, 'must not be empty');
export const reasonInput = reasonText();
/** Requests or tokens per minute; null clears the limit. */
export const perMinuteLimit = z.number().int('must be a whole number').positive('must be positive').max(1_000_000_000).nullable();
export const idInput = z.string().trim().pipe(identifierText());

/**
 * Parses an operator's input, or throws a 400 naming the first wrong field;
 * `field` names a bare value (an action's `id` argument).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, field?: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = [...(field ? [field] : []), ...issue.path.map(String)].join('.');
  const message = param ? `Invalid value for '${param}': ${issue.message}.` : `Invalid input: ${issue.message}.`;
  throw new GatewayError('invalid_request', message, param ? { param } : {});
}

/**
 * What an action accepts: the schema's input, where any optional field may
 * also arrive as null (GraphQL sends null for a field set to null); the
 * schema then decides whether null means "clear" or is an error.
 */
export type ActionInput<S extends z.ZodType> = { [K in keyof z.input<S>]: undefined extends z.input<S>[K] ? z.input<S>[K] | null : z.input<S>[K] };

/** One of a fixed set of strings, typed as a plain string on input (GraphQL sends String). */
export const oneOf = <const T extends readonly string[]>(values: T) =>
  z
    .string()
    .refine((v): v is T[number] => (values as readonly string[]).includes(v), `must be one of ${values.join(', ')}`)
    .transform((v) => v as T[number]);
