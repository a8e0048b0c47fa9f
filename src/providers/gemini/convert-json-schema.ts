// Gemini's `Schema` is an OpenAPI subset and rejects unknown keys
// (`additionalProperties`, `$schema`, `strict`, …) with a 400. Keep the keys
// it knows, recursively; a `["string","null"]` type becomes `nullable`, and
// `const` becomes a one-value enum.

const KEPT = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'propertyOrdering',
  'default', 'minimum', 'maximum',
]);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function toGeminiSchema(schema: unknown): Json {
  if (!isObject(schema)) return {};
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toGeminiSchema(sub)]));
    } else if (key === 'items') {
      out.items = toGeminiSchema(value);
    } else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out.anyOf = value.map(toGeminiSchema);
    } else if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      if (types.length > 0) out.type = types[0];
      if (types.length < value.length) out.nullable = true;
    } else if (key === 'const') {
      out.enum = [value];
    } else if (KEPT.has(key)) {
      out[key] = value;
    }
  }
  return out;
}

/** Function parameters as Gemini takes them; an object with no properties is left out, which Gemini would reject. */
export function toGeminiParameters(parameters: Record<string, unknown> | undefined): Json | undefined {
  if (!parameters) return undefined;
  const schema = toGeminiSchema(parameters);
  const props = schema.properties;
  if (schema.type === 'object' && (!isObject(props) || Object.keys(props).length === 0)) return undefined;
  return schema;
}
