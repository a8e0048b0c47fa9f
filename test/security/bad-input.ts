import { randomBytes } from 'node:crypto';
import fc from 'fast-check';

// Generators of input no door may accept, shared by the attack suites. Each
// is invalid whatever field it lands in (within the kinds it is offered
// for), so a suite can demand a refusal, not merely the absence of a 500.

/** Seeded: a failure replays with the same inputs. */
export const SEED = 20_20;

/** Controls and lone surrogates: refused in identifiers, names, labels, reasons and secrets. */
export const CONTROL_CHARACTERS = ['\u0000', '\u0001', '\u0007', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b', '\ud800', '\udfff'] as const;

/** Made once: fast-check shrinks and replays by index, and megabytes of random text per run would be the suite's whole time. */
const uncompressible = (chars: number) => randomBytes(Math.ceil((chars * 3) / 4)).toString('base64').slice(0, chars);
export const HUGE_STRINGS = [uncompressible(5_000), uncompressible(70_000), uncompressible(1_048_576)] as const;

/** A string with at least one control character somewhere in it. */
export const withControl = (): fc.Arbitrary<string> =>
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.constantFrom(...CONTROL_CHARACTERS), fc.string({ maxLength: 12 }))
    .map(([a, c, b]) => `${a}${c}${b}`);

/** Longer than any identifier, name, reason, secret or URL the gateway keeps. */
export const huge = (): fc.Arbitrary<string> => fc.constantFrom(...HUGE_STRINGS);

/** Nested arrays or objects `depth` deep, as JSON text (JSON.stringify itself cannot build it that deep). */
export function deepJsonText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A value of a JSON type other than the one named. */
export function wrongType(not: 'string' | 'number' | 'boolean' | 'array' | 'object' | 'integer'): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 8 }),
    number: fc.double({ noNaN: true, noDefaultInfinity: true }),
    boolean: fc.boolean(),
    array: fc.array(fc.integer(), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
    null: fc.constant(null),
  };
  const others = Object.entries(all).filter(([k]) => k !== not && !(not === 'integer' && k === 'number'));
  if (not === 'integer') others.push(['fraction', fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n))]);
  return fc.oneof(...others.map(([, a]) => a));
}

/**
 * Numbers just past a [min, max] range (and, for integers, a fraction
 * inside it): the boundary itself is accepted, these never.
 */
export function pastBoundary(min: number, max: number, integer: boolean): fc.Arbitrary<number> {
  const step = integer ? 1 : Math.max(Number.EPSILON, Math.abs(max) * 1e-9, 1e-9);
  const options: number[] = [min - step, max + step, -1e308, 1e308, Number.MAX_SAFE_INTEGER + 2];
  if (integer) options.push(min + 0.5);
  return fc.constantFrom(...options.filter((n) => n < min || n > max || (integer && !Number.isInteger(n))));
}

/** Counts inputs per door; each suite prints its counts once. */
export class Tally {
  readonly tried = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  fiveHundreds = 0;

  count(door: string, status: number): void {
    this.tried.set(door, (this.tried.get(door) ?? 0) + 1);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status >= 500) this.fiveHundreds++;
  }

  get total(): number {
    let n = 0;
    for (const v of this.tried.values()) n += v;
    return n;
  }

  report(suite: string): string {
    const doors = [...this.tried].map(([d, n]) => `${d}: ${n}`).join(', ');
    const statuses = [...this.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    return `${suite}: ${this.total} generated bad inputs (${doors}); statuses ${statuses}; 500s seen: ${this.fiveHundreds}`;
  }
}
