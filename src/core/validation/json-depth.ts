// A JSON body nested deeper than any request needs is refused before
// anything walks it: JSON.parse builds a 100,000-deep value from 200 KB of
// brackets without complaint, but each recursive walker after it (zod,
// JSON.stringify for the upstream, a tool's schema converted for a
// provider, the mock's arguments from a schema) overflows the stack, and a
// RangeError is a 500. The deepest real request is a tool's JSON schema a
// few dozen levels deep.

export const MAX_JSON_DEPTH = 64;

/** True when `value` (an object or array at `depth`) holds one nested past the limit. Scalars are skipped without a call: most of a body is strings and numbers. */
function deeper(value: object, depth: number): boolean {
  if (depth >= MAX_JSON_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && deeper(item, depth + 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && deeper(item, depth + 1)) return true;
  }
  return false;
}

const isNested = (value: unknown, depth: number): boolean => typeof value === 'object' && value !== null && deeper(value, depth);

/**
 * Where a parsed body first nests deeper than MAX_JSON_DEPTH, as the path
 * of the field holding it (its first few keys), or undefined when it does not.
 */
export function tooDeepAt(body: unknown, shownKeys = 4): string[] | undefined {
  if (!isNested(body, 0)) return undefined;
  const path: string[] = [];
  let node = body as Record<string, unknown>;
  while (path.length < shownKeys) {
    const next = Object.keys(node).find((k) => isNested(node[k], path.length + 1));
    if (next === undefined) break;
    path.push(next);
    node = node[next] as Record<string, unknown>;
  }
  return path;
}
