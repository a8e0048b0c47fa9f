import { GatewayError } from '../errors.js';

// A project's redaction patterns: checked when an operator saves them, and
// applied to captured payloads before they are stored.
//
// A pattern runs on every captured payload of its project, so a
// catastrophic one (exponential backtracking) would burn the process's CPU.
// Three guards, none perfect alone: a pattern whose quantified group itself
// holds a quantifier (`(a+)+`, `(\w*\s?)*`, `(x{2,})+`) or a backreference is
// refused at save time, which rules out the exponential cases; what is left
// is at worst polynomial, and each payload is cut to MAX_REDACTED_CHARS
// before the patterns run; and redaction runs in the payload store's queue,
// never on a client's path.

export const MAX_REDACT_PATTERNS = 20;
export const MAX_REDACT_PATTERN_LENGTH = 200;
/** Payload text beyond this is cut (with a marker) before redaction and storage. */
export const MAX_REDACTED_CHARS = 256 * 1024;
export const REDACTED = '[REDACTED]';

/** Why a pattern may backtrack without bound, or undefined when it looks safe. */
export function unsafePattern(pattern: string): string | undefined {
  // One frame per open group: whether anything inside it is quantified.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return 'backreferences are not allowed';
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      continue;
    }
    if (ch === '(') {
      groups.push(false);
      continue;
    }
    const quantifier = ch === '*' || ch === '+' || (ch === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
    if (ch === ')') {
      const innerQuantified = groups.pop() ?? false;
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d+,\d*\}/.test(pattern.slice(i + 1)));
      if (innerQuantified && repeated) return 'a repeated group holds a repeated part (nested quantifiers can backtrack without bound)';
      // The group as a whole counts as a quantified part of its parent when it is repeated.
      if ((innerQuantified || repeated || next === '?') && groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    if (quantifier && groups.length > 0) groups[groups.length - 1] = true;
  }
  return undefined;
}

/** Validates the patterns an operator saves; throws BAD_USER_INPUT naming the first bad one. */
export function checkRedactPatterns(patterns: readonly string[]): string[] {
  if (patterns.length > MAX_REDACT_PATTERNS) {
    throw new GatewayError('invalid_request', `At most ${MAX_REDACT_PATTERNS} redact patterns per project.`, { param: 'redactPatterns' });
  }
  return patterns.map((pattern, i) => {
    const name = `redactPatterns[${i}] ${JSON.stringify(pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern)}`;
    if (pattern.length === 0) throw new GatewayError('invalid_request', `${name} is empty.`, { param: 'redactPatterns' });
    if (pattern.length > MAX_REDACT_PATTERN_LENGTH) {
      throw new GatewayError('invalid_request', `${name} is longer than ${MAX_REDACT_PATTERN_LENGTH} characters.`, { param: 'redactPatterns' });
    }
    try {
      new RegExp(pattern, 'g');
    } catch (e) {
      throw new GatewayError('invalid_request', `${name} is not a valid regular expression: ${(e as Error).message}`, { param: 'redactPatterns' });
    }
    const unsafe = unsafePattern(pattern);
    if (unsafe) throw new GatewayError('invalid_request', `${name} is refused: ${unsafe}.`, { param: 'redactPatterns' });
    return pattern;
  });
}

/** Compiled patterns, cached per list (a project's list is one array shared by its cached keys). */
const compiled = new WeakMap<readonly string[], RegExp[]>();

function compile(patterns: readonly string[]): RegExp[] {
  let list = compiled.get(patterns);
  if (!list) {
    // Saved patterns were checked; one that no longer compiles (an older Node) is skipped rather than fail the capture.
    list = patterns.flatMap((p) => {
      try {
        return [new RegExp(p, 'g')];
      } catch {
        return [];
      }
    });
    compiled.set(patterns, list);
  }
  return list;
}

/** The text cut to the size bound, with every match of the patterns replaced by [REDACTED]. */
export function redact(text: string, patterns: readonly string[]): string {
  let out = text.length > MAX_REDACTED_CHARS ? `${text.slice(0, MAX_REDACTED_CHARS)}…[cut: ${text.length - MAX_REDACTED_CHARS} more characters]` : text;
  for (const re of compile(patterns)) out = out.replace(re, (match) => (match === '' ? '' : REDACTED));
  return out;
}
