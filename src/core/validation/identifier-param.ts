import { atMost, hasNoControls, NO_CONTROLS, TEXT_LIMITS } from '../../contract/text-limits.js';
import { GatewayError } from '../errors.js';

/** A route's own path or query parameter (bodies go through zod): the value, or a 400 naming it. */
export function identifierParam(value: string, param: string, max: number = TEXT_LIMITS.identifier): string {
  const problem = value.length === 0 ? 'must not be empty' : value.length > max ? atMost(max) : hasNoControls(value) ? undefined : NO_CONTROLS;
  if (problem) throw new GatewayError('invalid_request', `Invalid value for '${param}': ${problem}.`, { param });
  return value;
}
