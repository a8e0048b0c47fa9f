import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { printSchemaFile } from '../../src/graphql/print-schema-file.js';

const SDL = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));

it('the committed schema/schema.graphql is the code’s schema (run `npm run schema:print` after changing it)', () => {
  expect(readFileSync(SDL, 'utf8')).toBe(printSchemaFile());
});

it('keeps the operations admin tools are written against (SPEC: the minimum operations)', () => {
  const sdl = printSchemaFile();
  for (const field of [
    'createProject(input: CreateProjectInput!): Project',
    'createApiKey(input: CreateApiKeyInput!): CreateApiKeyPayload',
    'revokeApiKey(id: ID!): ApiKey',
    'setModelPermissions(models: [String!]!, projectId: ID!): Project',
    'upsertModel(input: UpsertModelInput!): Model',
    'addUpstreamKey(input: AddUpstreamKeyInput!): UpstreamKey',
    'creditBalance(amount: Decimal!, projectId: ID!, reason: String!): BalanceChange',
    'project(id: ID!): Project',
    'upstreamKeys(provider: String): [UpstreamKey!]',
    'usage(projectId: ID): UsageEvent',
    'providerHealth(provider: String): ProviderHealth',
  ]) {
    expect(sdl).toContain(field);
  }
});
