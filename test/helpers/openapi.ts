// Contract checks against OpenAI's official OpenAPI spec, with a real JSON
// Schema validator rather than hand-written assertions. The schemas used are
// vendored in test/fixtures/openai by scripts/vendor-openapi.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const SPEC = fileURLToPath(new URL('../fixtures/openai/openapi-components.json', import.meta.url));

let ajv: Ajv2020 | undefined;

function validator(): Ajv2020 {
  if (ajv) return ajv;
  const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { components: unknown };
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema({ $id: 'openai', components: nullableToJsonSchema(spec.components) });
  return ajv;
}

export type OpenAISchema =
  | 'CreateChatCompletionResponse'
  | 'CreateChatCompletionStreamResponse'
  | 'CreateEmbeddingResponse'
  | 'ListModelsResponse'
  | 'Model'
  | 'ErrorResponse'
  | 'Response'
  | 'ResponseStreamEvent'
  | 'ResponseItemList';

/** Returns the validation errors (empty when the value conforms). */
export function openapiErrors(schema: OpenAISchema, value: unknown): string[] {
  const validate = validator().getSchema(`openai#/components/schemas/${schema}`);
  if (!validate) throw new Error(`schema ${schema} not found in the OpenAI spec`);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** The spec still uses OpenAPI 3.0's `nullable` in places; JSON Schema says the same with a null alternative. */
function nullableToJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableToJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, nullableToJsonSchema(v)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}
