/**
 * What grew between two V8 heap snapshots (`.heapsnapshot`, e.g. from the
 * soak with BENCH_SOAK_HEAPSNAPSHOTS=1): live objects grouped by type and
 * constructor name, the groups whose retained count or self size changed
 * most first.
 *
 *   npx tsx test/bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [top]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type Groups = Map<string, { count: number; size: number }>;

export function groups(file: string): Groups {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out: Groups = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    // Strings and numbers are grouped by type only: their "name" is their value.
    const name = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' ? s.strings[s.nodes[i + iName]!]! : '';
    const key = `${type}${name ? ` ${name.slice(0, 80)}` : ''}`;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += s.nodes[i + iSize]!;
    out.set(key, g);
  }
  return out;
}

export function diff(a: Groups, b: Groups, top: number): string {
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, size: 0 };
    const y = b.get(key) ?? { count: 0, size: 0 };
    return { key, count: y.count - x.count, size: y.size - x.size, after: y };
  });
  const total = (g: Groups) => [...g.values()].reduce((n, v) => n + v.size, 0);
  const mb = (n: number) => `${n >= 0 ? '+' : ''}${(n / 2 ** 20).toFixed(2)} MB`;
  const lines = [`self size ${mb(total(b) - total(a))} overall (${(total(a) / 2 ** 20).toFixed(1)} → ${(total(b) / 2 ** 20).toFixed(1)} MB)`, ''];
  lines.push(`${'Δ self size'.padStart(12)}  ${'Δ count'.padStart(9)}  ${'count after'.padStart(11)}  group`);
  for (const r of rows.sort((p, q) => Math.abs(q.size) - Math.abs(p.size)).slice(0, top)) {
    lines.push(`${mb(r.size).padStart(12)}  ${`${r.count >= 0 ? '+' : ''}${r.count}`.padStart(9)}  ${String(r.after.count).padStart(11)}  ${r.key}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [before, after, top] = process.argv.slice(2);
  if (!before || !after) {
    process.stderr.write('usage: npx tsx test/bench/heap-diff.ts before.heapsnapshot after.heapsnapshot [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${diff(groups(before), groups(after), Number(top ?? 30))}\n`);
}
