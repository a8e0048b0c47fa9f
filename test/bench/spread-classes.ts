/**
 * Whether object literals built around a spread share a hidden class, and
 * what each costs to make, once the code is optimized: the check behind
 * docs/design.md's rule that literals on a request's path put new keys
 * before a spread. Run it again on a new Node before dropping the rule:
 *   npx tsx test/bench/spread-classes.ts
 */
import { haveSameMap } from '../helpers/v8-shapes.js';

type Make = () => object;

const ctx = { target: { keyId: 'k' }, signal: null, requestId: 'req_1', transport: undefined };
const headers = { 'x-gateway-hop': 'gw_0123456789' };
const extra = { tools: [] };
const cap = 512;

const shapes: Array<[string, Make]> = [
  ['{ ...ctx }', () => ({ ...ctx })],
  ['{ ...ctx, newKey }', () => ({ ...ctx, maxOutputTokens: cap })],
  ['{ newKey, ...ctx }', () => ({ maxOutputTokens: cap, ...ctx })],
  ['{ ...ctx, keyItHas }', () => ({ ...ctx, requestId: 'req_2' })],
  [
    '{ ...ctx } then .newKey =',
    () => {
      const copy: Record<string, unknown> = { ...ctx };
      copy.maxOutputTokens = cap;
      return copy;
    },
  ],
  ['{ ...headers, ...extra }', () => ({ ...headers, ...extra })],
  ['{ newKey, ...headers, ...extra }', () => ({ traceparent: '00-x', ...headers, ...extra })],
];

const ROUNDS = 1_000_000;
const keep: object[] = new Array(1024);
for (const [label, make] of shapes) {
  for (let i = 0; i < 100_000; i++) keep[i & 1023] = make(); // optimized by now
  const made = Array.from({ length: 200 }, make);
  let classes = 1;
  for (let i = 1; i < made.length; i++) if (!haveSameMap(made[i]!, made[i - 1]!)) classes++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) keep[i & 1023] = make();
  const ns = Number(process.hrtime.bigint() - t0) / ROUNDS;
  process.stdout.write(`${label.padEnd(34)} ${String(classes).padStart(3)} hidden classes in 200 objects, ${ns.toFixed(0).padStart(5)} ns each\n`);
}
