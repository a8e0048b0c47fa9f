import { describe, expect, it } from 'vitest';
import { checkRedactPatterns, MAX_REDACTED_CHARS, redact, unsafePattern } from '../../src/core/explorer/redact-patterns.js';

describe('redaction patterns', () => {
  it('refuse nested quantifiers and backreferences, accept ordinary patterns', () => {
    for (const bad of ['(a+)+', '(a*)*b', '(\\w+\\s?)*$', '((ab)+c)+', '(x{2,})+', '(a|b+){2,}', '(.)\\1', '(?<n>a)\\k<n>']) {
      expect(unsafePattern(bad), bad).toBeDefined();
    }
    for (const good of ['[\\w.+-]+@[\\w-]+\\.[\\w.]+', 'sk-[A-Za-z0-9]{20,}', '(ab)+', '(a+b)', '\\d{3}-\\d{4}', '[(+)]+', '\\(a+\\)+', '(a|b)*', '(?:foo)?bar+']) {
      expect(unsafePattern(good), good).toBeUndefined();
    }
  });

  it('name the first bad pattern', () => {
    expect(() => checkRedactPatterns(['ok', '(a+)+'])).toThrow(/redactPatterns\[1\] "\(a\+\)\+" is refused/);
    expect(() => checkRedactPatterns(['['])).toThrow(/redactPatterns\[0\] "\[" is not a valid regular expression/);
    expect(() => checkRedactPatterns([''])).toThrow(/is empty/);
    expect(() => checkRedactPatterns(['x'.repeat(201)])).toThrow(/longer than 200/);
    expect(checkRedactPatterns(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('replace every match and cut what is over the size bound first', () => {
    expect(redact('mail a@b.co and c@d.io', ['[\\w.+-]+@[\\w-]+\\.[\\w.]+'])).toBe('mail [REDACTED] and [REDACTED]');
    expect(redact('nothing to hide', [])).toBe('nothing to hide');
    // An empty match inserts nothing.
    expect(redact('abc', ['x*'])).toBe('abc');
    const long = redact('y'.repeat(MAX_REDACTED_CHARS + 10), ['y{1000}']);
    expect(long.endsWith('…[cut: 10 more characters]')).toBe(true);
  });
});
