// How /graphql logs what goes wrong: a client's mistake (bad input, a
// typo, a missing token, a query over a limit) is one info or warn line
// without a stack; only our own faults are logged at error, with the stack.
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql/index.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMaskError } from '../../src/graphql/errors.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { graphqlClient } from './graphql-client.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger at the default level writing JSON lines into an array, as an operator's log pipeline would get them. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;

let gw: TestGateway;
let gql: ReturnType<typeof graphqlClient>;
const { logger, lines } = capturingLogger();

beforeAll(async () => {
  gw = await startGateway({ logger });
  gql = graphqlClient(gw.url, gw.adminToken);
  await gql.ok(`{ me { name } }`);
});
afterAll(async () => gw?.close());

/** The lines logged while `send` ran (pino writes synchronously into the stream). */
async function logged(send: () => Promise<unknown>): Promise<LogLine[]> {
  const from = lines.length;
  await send();
  return lines.slice(from);
}

describe('client mistakes', () => {
  const cases: Array<[string, () => Promise<unknown>, string, number]> = [
    [
      'bad input (BAD_USER_INPUT from the core)',
      async () => {
        const { adminTokens } = await gql.ok(`{ adminTokens { id name } }`);
        const self = adminTokens.find((t: { name: string }) => t.name === 'ADMIN_TOKEN');
        return gql.request(`mutation($id: ID!) { revokeAdminToken(id: $id) { id } }`, { id: self.id });
      },
      'BAD_USER_INPUT',
      INFO,
    ],
    ['a misspelt field', () => gql.request(`{ projectz { id } }`), 'GRAPHQL_VALIDATION_FAILED', INFO],
    ['a syntax error', () => gql.request(`{ projects { nodes { id } }`), 'GRAPHQL_PARSE_FAILED', INFO],
    ['no token', () => gql.request(`{ me { name } }`, undefined, { token: null }), 'UNAUTHENTICATED', INFO],
    ['a page out of range', () => gql.request(`{ usageRecords(first: 1000) { nodes { requestId } } }`), 'BAD_USER_INPUT', INFO],
    ['too many aliases', () => gql.request(`{ me { ${Array.from({ length: 16 }, (_, i) => `a${i}: name`).join(' ')} } }`), 'QUERY_TOO_COMPLEX', WARN],
    ['too costly', () => gql.request(`query($n: Int) { ${Array.from({ length: 10 }, (_, i) => `a${i}: usageRecords(first: $n) { nodes { requestId model provider cost promptTokens completionTokens cachedTokens reasoningTokens status createdAt settledAt latencyMs ttftMs httpStatus errorCode attempts stream test apiKeyId projectId upstreamKeyId upstreamModel inputPrice outputPrice reservedCost } }`).join(' ')} }`, { n: 200 }), 'QUERY_TOO_COMPLEX', WARN],
  ];

  for (const [what, send, code, level] of cases) {
    it(`logs ${what} as one ${level === INFO ? 'info' : 'warn'} line with its code and no stack`, async () => {
      const out = await logged(send);
      expect(out.filter((l) => l.level >= ERROR), JSON.stringify(out)).toEqual([]);
      const refusals = out.filter((l) => l.msg === 'graphql request refused');
      expect(refusals, JSON.stringify(out)).toHaveLength(1);
      expect(refusals[0]!.level).toBe(level);
      expect(refusals[0]!['errors']).toEqual([expect.objectContaining({ code, message: expect.any(String) })]);
      expect(JSON.stringify(out)).not.toMatch(/"stack"|\n\s+at /);
    });
  }
});

describe('our own faults', () => {
  it('are logged at error with the stack, and the client sees only "Unexpected error."', () => {
    const { logger: faultLogger, lines: faultLines } = capturingLogger();
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    const masked = makeMaskError(faultLogger)(new GraphQLError(bug.message, { originalError: bug, path: ['projects'] }), 'Unexpected error.');
    expect(masked.message).toBe('Unexpected error.');
    expect((masked as GraphQLError).extensions['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(faultLines).toHaveLength(1);
    expect(faultLines[0]).toMatchObject({ level: ERROR, path: 'projects', err: { type: 'TypeError', message: bug.message, stack: expect.stringContaining('TypeError') } });
  });
});
