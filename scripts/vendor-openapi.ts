// Copies into the repository the part of OpenAI's OpenAPI spec the contract
// tests validate against: the response schemas below and every schema they
// reference, so a clean clone needs nothing outside itself.
// Usage: npx tsx scripts/vendor-openapi.ts ../shared/protocols/openai-openapi.yaml
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOTS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateEmbeddingResponse',
  'ListModelsResponse',
  'Model',
  'ErrorResponse',
  // The Responses API: the object, its stream events, and the input items list.
  'Response',
  'ResponseStreamEvent',
  'ResponseItemList',
];
const OUT = fileURLToPath(new URL('../test/fixtures/openai/', import.meta.url));

const source = process.argv[2];
if (!source) throw new Error('usage: vendor-openapi.ts <path to openai-openapi.yaml>');
const spec = parse(readFileSync(source, 'utf8')) as { info?: { version?: string }; components: { schemas: Record<string, unknown> } };
const all = spec.components.schemas;

const kept: Record<string, unknown> = {};
const visit = (node: unknown): void => {
  if (Array.isArray(node)) {
    for (const item of node) visit(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) keep(value.slice('#/components/schemas/'.length));
    else visit(value);
  }
};
const keep = (name: string): void => {
  if (name in kept) return;
  if (!(name in all)) throw new Error(`schema ${name} is not in the spec`);
  kept[name] = all[name];
  visit(all[name]);
};
ROOTS.forEach(keep);

const sorted = Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(OUT, 'openapi-components.json'), `${JSON.stringify({ source: 'openai-openapi.yaml', version: spec.info?.version ?? null, components: { schemas: sorted } }, null, 1)}\n`);
const license = join(dirname(source), 'openai-openapi.LICENSE');
if (existsSync(license)) copyFileSync(license, join(OUT, 'LICENSE'));
process.stdout.write(`kept ${Object.keys(sorted).length} of ${Object.keys(all).length} schemas in ${OUT}\n`);
