import { z } from 'zod';

// Every string a client or operator sends, by kind: how long it may be and
// which characters it may hold. Both doors build their schemas from these,
// so a value is refused with a 400 naming its field before it reaches the
// database (Postgres refuses NUL in text and jsonb, and an index entry over
// 2,704 bytes) or a log line.
//
// Free text (message content, tool arguments, descriptions, stop sequences)
// may contain anything: only the body limit bounds it.

/** Lengths in UTF-16 code units, as JavaScript counts them. */
export const TEXT_LIMITS = {
  /**
   * Ids of rows and models, upstream model names, tool, function and
   * participant names. At most 3 bytes of UTF-8 per code unit keeps an id
   * (768 bytes) and a two-column index entry of ids under Postgres' 2,704.
   */
  identifier: 256,
  /** Names and labels people give: projects, keys, tokens, upstream keys, owners. */
  name: 200,
  /** Why an operator moved money or disabled a key; kept in the ledger and audit log. */
  reason: 500,
  /** A provider's API key. */
  secret: 4096,
  /** An upstream's base URL. */
  url: 2000,
} as const;

/**
 * C0 and C1 controls (NUL, line breaks, escape, DEL...) and lone UTF-16
 * surrogates (not text at all: they cannot be encoded as UTF-8). In a
 * name they hide or forge what an operator reads in a log or console.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/u;
/** A provider key goes into an HTTP header: visible ASCII only. */
const SECRET_CHARACTERS = /^[\u0021-\u007e]*$/;

export const NO_CONTROLS = 'must not contain control characters (such as NUL or line breaks)';

export const hasNoControls = (s: string): boolean => !UNPRINTABLE.test(s);

export const atMost = (max: number) => `must be at most ${max} characters`;

/** An id or a machine name: not empty, no controls, at most `max` (not trimmed: ids are compared as sent). */
export const identifierText = (max: number = TEXT_LIMITS.identifier) =>
  z.string().min(1, 'must not be empty').max(max, atMost(max)).refine(hasNoControls, NO_CONTROLS);

/** A name or label a person gives: trimmed, may be empty (add `.min(1, …)` where it must not), no controls. */
export const nameText = (max: number = TEXT_LIMITS.name) => z.string().trim().max(max, atMost(max)).refine(hasNoControls, NO_CONTROLS);

/** An operator's reason for a change: trimmed, not empty, no controls. */
export const reasonText = (max: number = TEXT_LIMITS.reason) =>
  z.string().trim().min(1, 'must say why').max(max, atMost(max)).refine(hasNoControls, NO_CONTROLS);

/** A provider API key: trimmed, at least 8 visible ASCII characters, no spaces or controls. */
export const secretText = () =>
  z
    .string()
    .trim()
    .min(8, 'must be the provider key (at least 8 characters)')
    .max(TEXT_LIMITS.secret, atMost(TEXT_LIMITS.secret))
    .refine((s) => SECRET_CHARACTERS.test(s), 'must be visible ASCII characters, without whitespace or control characters');

/**
 * A client-chosen string fit to record (a refused request's model): cut to
 * the identifier limit, controls and lone surrogates replaced by U+FFFD.
 */
export function recordableText(s: string, max: number = TEXT_LIMITS.identifier): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  return hasNoControls(cut) ? cut : cut.replace(new RegExp(UNPRINTABLE.source, 'gu'), '\ufffd');
}
