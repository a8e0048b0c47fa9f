// Google's OpenAPI-subset `Schema` (upper-case types, `nullable`,
// `propertyOrdering`) as the JSON Schema every upstream adapter takes.

const KEEP = new Set([
  'format', 'title', 'description', 'enum', 'maxItems', 'minItems', 'required', 'minProperties', 'maxProperties',
  'minLength', 'maxLength', 'pattern', 'default', 'minimum', 'maximum', 'example',
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function geminiSchemaToJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (KEEP.has(key)) out[key] = value;
    else if (key === 'type' && typeof value === 'string' && value !== 'TYPE_UNSPECIFIED') out.type = value.toLowerCase();
    else if (key === 'items' && isRecord(value)) out.items = geminiSchemaToJsonSchema(value);
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.filter(isRecord).map(geminiSchemaToJsonSchema);
    else if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).filter(([, v]) => isRecord(v)).map(([k, v]) => [k, geminiSchemaToJsonSchema(v as Record<string, unknown>)]));
    }
  }
  if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}
