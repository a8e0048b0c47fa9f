// The standing attack suite, GraphQL door: every mutation of the schema
// (enumerated from the committed SDL, so a new mutation without a baseline
// here fails the suite), each given a valid baseline, then one argument or
// input field at a time replaced by a value it can never take. Every such
// call is refused with a GraphQL error naming the field, never
// INTERNAL_SERVER_ERROR nor an HTTP 5xx; the process's memory stays bounded;
// and no row of money, keys, catalogue or audit log changes.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  type GraphQLArgument,
  GraphQLEnumType,
  type GraphQLInputField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import { TEXT_LIMITS } from '../../src/contract/text-limits.js';
import { graphqlClient } from '../graphql/graphql-client.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { huge, SEED, Tally, withControl } from './bad-input.js';
import { snapshot } from './db-snapshot.js';

const RUNS = 300;
const RSS_HEADROOM = 300 * 1024 * 1024;
const schema = buildSchema(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));
const mutations = Object.values(schema.getMutationType()!.getFields());

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
let baselines: Record<string, Record<string, unknown>>;
let rssCeiling = 0;
const tally = new Tally();

beforeAll(async () => {
  gw = await startGateway();
  gql = graphqlClient(gw.url, gw.adminToken);
  const project = await createProject(gw.database.db, { name: 'attacked', initialBalance: '100', actor: 'test' });
  const key = await createApiKey(gw.database.db, gw.gateway.bus, { projectId: project.id, mode: 'test', name: 'k' });
  const upstream = await gql.ok<{ addUpstreamKey: { id: string } }>('mutation($i: AddUpstreamKeyInput!) { addUpstreamKey(input: $i) { id } }', {
    i: { provider: 'openai', label: 'pool', secret: 'sk-attack-baseline-1' },
  });
  const token = await gql.ok<{ createAdminToken: { adminToken: { id: string } } }>('mutation { createAdminToken(name: "viewer", role: VIEWER) { adminToken { id } } }');
  const model = { id: 'attack-model', kind: 'CHAT', ownedBy: 'o', inputPrice: '1', outputPrice: '2', routes: [{ provider: 'openai', upstreamModel: 'u' }] };
  await gql.ok('mutation($i: UpsertModelInput!) { upsertModel(input: $i) { id } }', { i: model });
  const upstreamId = upstream.addUpstreamKey.id;
  // A valid call of each mutation; the suite changes one thing in it at a time.
  baselines = {
    addUpstreamKey: { input: { provider: 'openai', label: 'l', secret: 'sk-attack-valid-2' } },
    adjustBalance: { amount: '-1', projectId: project.id, reason: 'r' },
    archiveProject: { id: project.id },
    createAdminToken: { name: 't', role: 'VIEWER' },
    createApiKey: { input: { projectId: project.id, mode: 'TEST', name: 'k' } },
    createProject: { input: { name: 'p' } },
    creditBalance: { amount: '1', projectId: project.id, reason: 'r' },
    deleteModel: { id: model.id },
    disableUpstreamKey: { id: upstreamId, reason: 'r' },
    enableUpstreamKey: { id: upstreamId },
    removeUpstreamKey: { id: upstreamId },
    revokeAdminToken: { id: token.createAdminToken.adminToken.id },
    revokeApiKey: { id: key.apiKey.id },
    setApiKeyLimits: { id: key.apiKey.id, input: { name: 'n' } },
    setModelPermissions: { models: ['gpt-4o-mini'], projectId: project.id },
    updateProject: { id: project.id, input: { name: 'n' } },
    updateUpstreamKey: { id: upstreamId, input: { label: 'l' } },
    upsertModel: { input: model },
  };
  rssCeiling = process.memoryUsage.rss() + RSS_HEADROOM;
});

afterAll(async () => {
  console.log(tally.report('GraphQL attack suite'));
  await gw?.close();
});

function operation(field: (typeof mutations)[number]): string {
  const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = getNamedType(field.type) instanceof GraphQLObjectType ? ' { __typename }' : '';
  return `mutation${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

/** Domain bounds of integer fields, from the core's schemas: [min, max]. */
const INT_BOUNDS: Record<string, [number, number]> = {
  weight: [1, 10_000],
  priority: [-1000, 1000],
  rpmLimit: [1, 1_000_000_000],
  tpmLimit: [1, 1_000_000_000],
  contextWindow: [1, 2 ** 31 - 1],
  maxOutputTokens: [1, 2 ** 31 - 1],
  dimensions: [1, 2 ** 31 - 1],
};

/** Values a leaf of this type never accepts, whatever field it is. */
function refusedValues(name: string, type: GraphQLInputType): fc.Arbitrary<unknown> {
  const nonNull = type instanceof GraphQLNonNull;
  const inner = nonNull ? type.ofType : type;
  const nullIfRequired = nonNull ? [fc.constant(null)] : [];
  if (inner instanceof GraphQLList) {
    const element = getNamedType(inner);
    const bad = element instanceof GraphQLScalarType && element.name === 'String' ? [fc.oneof(withControl(), huge()).map((s) => [s]), fc.constant([{}])] : [fc.constant([{}])];
    return fc.oneof(fc.constant({}), ...bad, ...nullIfRequired);
  }
  if (inner instanceof GraphQLInputObjectType) return fc.oneof(fc.constant('text'), fc.constant([1]), ...nullIfRequired);
  if (inner instanceof GraphQLEnumType) return fc.oneof(fc.constantFrom('NOPE', 5, 'chat', true), ...nullIfRequired);
  const scalar = (inner as GraphQLScalarType).name;
  const wrong: Record<string, fc.Arbitrary<unknown>> = {
    String: fc.constantFrom(5, true, {}, 1.5),
    ID: fc.constantFrom(true, {}, 1.5, [[]]),
    Int: fc.constantFrom('1', 1.5, 2 ** 31, -(2 ** 31) - 1, true),
    Boolean: fc.constantFrom('true', 1, {}),
    Decimal: fc.constantFrom('abc', '1e5', '', ' ', '--1', '1.0000000000001', '9'.repeat(40), 1.5, true),
    DateTime: fc.constantFrom('yesterday', '2025-01-01', '', 5, '2025-01-01T00:00:00'),
  };
  const arbs: fc.Arbitrary<unknown>[] = [wrong[scalar] ?? fc.constant({}), ...nullIfRequired];
  if (scalar === 'String' || scalar === 'ID') {
    // baseUrl's own rules (issue 20, finding 5) refuse C0 controls, not C1 ones, which a URL percent-encodes.
    arbs.push(huge(), name === 'baseUrl' ? fc.constantFrom('http://a/\u0000', 'ftp://x', 'not a url') : withControl());
  }
  if (scalar === 'Int' && INT_BOUNDS[name]) {
    const [min, max] = INT_BOUNDS[name];
    arbs.push(fc.constantFrom(...[min - 1, max + 1].filter((n) => n >= -(2 ** 31) && n < 2 ** 31)));
  }
  return fc.oneof(...arbs);
}

interface Leaf {
  /** Where in the variables, e.g. ['input', 'routes', 0, 'weight']. */
  path: Array<string | number>;
  name: string;
  type: GraphQLInputType;
}

/** Every argument and input field of a mutation, nested ones included (a list of inputs: its first element). */
function leaves(args: readonly (GraphQLArgument | GraphQLInputField)[], baseline: Record<string, unknown>, prefix: Array<string | number> = []): Leaf[] {
  const out: Leaf[] = [];
  for (const arg of args) {
    const path = [...prefix, arg.name];
    out.push({ path, name: arg.name, type: arg.type });
    const named = getNamedType(arg.type);
    const value = baseline?.[arg.name];
    if (named instanceof GraphQLInputObjectType) {
      const isList = (arg.type instanceof GraphQLNonNull ? arg.type.ofType : arg.type) instanceof GraphQLList;
      const inner = isList ? (Array.isArray(value) ? value[0] : undefined) : value;
      if (inner && typeof inner === 'object') out.push(...leaves(Object.values(named.getFields()), inner as Record<string, unknown>, isList ? [...path, 0] : path));
    }
  }
  return out;
}

function withValue(baseline: Record<string, unknown>, path: Array<string | number>, value: unknown): Record<string, unknown> {
  const copy = structuredClone(baseline);
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path.at(-1)!] = value;
  return copy;
}

/** An input object with a field its type does not have; any other leaf given an object in its place. */
function withBogus(baseline: Record<string, unknown>, leaf: Leaf): Record<string, unknown> {
  let current: any = baseline;
  for (const key of leaf.path) current = current?.[key];
  const isObject = current !== null && typeof current === 'object' && !Array.isArray(current);
  return isObject ? withValue(baseline, [...leaf.path, 'bogus'], 1) : withValue(baseline, leaf.path, { bogus: 1 });
}

describe('GraphQL mutations', () => {
  it('every mutation of the schema has a baseline here', () => {
    expect(mutations.map((m) => m.name).sort()).toEqual(Object.keys(baselines).sort());
  });

  it('every mutation refuses a value no field may take in any argument or input field, naming it, and changes nothing', async () => {
    const cases = fc.constantFrom(...mutations).chain((m) => {
      const baseline = baselines[m.name]!;
      return fc.constantFrom(...leaves(m.args, baseline)).chain((leaf) =>
        fc.oneof(
          refusedValues(leaf.name, leaf.type).map((value) => ({ m, leaf, variables: withValue(baseline, leaf.path, value) })),
          // A field the input type does not have, next to valid ones.
          fc.constant({ m, leaf: { ...leaf, name: 'bogus' }, variables: withBogus(baseline, leaf) }),
        ),
      );
    });
    const before = await snapshot(gw.database.db);
    await fc.assert(
      fc.asyncProperty(cases, async ({ m, leaf, variables }) => {
        const result = await gql.request(operation(m), variables);
        tally.count(`mutation ${m.name}`, result.status);
        expect(process.memoryUsage.rss()).toBeLessThan(rssCeiling);
        const described = JSON.stringify(result.errors)?.slice(0, 400);
        expect(result.status, described).toBeLessThan(500);
        expect(result.errors?.length, `${m.name} ${leaf.path.join('.')} was accepted`).toBeGreaterThan(0);
        expect(result.data?.[m.name] ?? null).toBeNull();
        for (const error of result.errors!) {
          expect(error.extensions?.code, described).not.toBe('INTERNAL_SERVER_ERROR');
          expect(error.message.length).toBeGreaterThan(0);
        }
        const first = result.errors![0]!;
        if (first.extensions?.code) expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(first.extensions.code);
        // Named: in `field` (the core's refusal) or in the message (graphql-js' variable coercion, `at "input.routes[0].weight"`).
        const where = `${first.extensions?.field ?? ''} ${first.message.slice(0, 2000)}`;
        expect(where, described).toContain(leaf.name === 'bogus' ? 'bogus' : String(leaf.name));
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(await snapshot(gw.database.db)).toEqual(before);
  });

  it('values at the boundaries, and the same field given twice, are answered without a server error', async () => {
    const upsert = baselines.upsertModel!.input as Record<string, unknown>;
    const odd = fc.constantFrom<[string, Record<string, unknown>]>(
      ['createProject', { input: { name: 'n'.repeat(TEXT_LIMITS.name), rpmLimit: 1, tpmLimit: 1_000_000_000 } }],
      ['createProject', { input: { name: ' padded ', initialBalance: '999999999999999999.999999999999' } }],
      ['creditBalance', { ...baselines.creditBalance, amount: '0.000000000001', reason: 'r'.repeat(TEXT_LIMITS.reason) }],
      ['adjustBalance', { ...baselines.adjustBalance, amount: '-999999999999999999' }],
      ['upsertModel', { input: { ...upsert, id: `m${'x'.repeat(127)}`, routes: [{ provider: 'openai', upstreamModel: 'u'.repeat(TEXT_LIMITS.identifier), weight: 10_000, priority: -1000 }] } }],
      ['upsertModel', { input: { ...upsert, fallbacks: [upsert.id] } }],
      ['addUpstreamKey', { input: { provider: 'openai', label: 'l', secret: `sk-${'a'.repeat(TEXT_LIMITS.secret - 3)}`, weight: 1, priority: 1000 } }],
      ['setModelPermissions', { ...baselines.setModelPermissions, models: Array.from({ length: 1000 }, () => 'gpt-4o-mini') }],
      ['setModelPermissions', { ...baselines.setModelPermissions, models: Array.from({ length: 1001 }, () => 'gpt-4o-mini') }],
      ['setApiKeyLimits', { ...baselines.setApiKeyLimits, input: { expiresAt: '1970-01-01T00:00:00Z', spendLimit: '0' } }],
    );
    await fc.assert(
      fc.asyncProperty(odd, async ([name, variables]) => {
        const result = await gql.request(operation(mutations.find((m) => m.name === name)!), variables);
        tally.count(`mutation ${name} (valid edge)`, result.status);
        expect(result.status).toBeLessThan(500);
        for (const error of result.errors ?? []) expect(error.extensions?.code, error.message).not.toBe('INTERNAL_SERVER_ERROR');
      }),
      { seed: SEED, numRuns: 20, endOnFailure: true },
    );
    // The same argument twice and the same mutation under two aliases.
    const twice = await gql.request('mutation { createProject(input: {name: "a"}, input: {name: "b"}) { id } }');
    expect(twice.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const fields = await gql.request('mutation { createProject(input: {name: "a", name: "b"}) { id } }');
    expect(fields.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    tally.count('mutation createProject (duplicate)', twice.status);
    tally.count('mutation createProject (duplicate)', fields.status);
  });
});
