/**
 * Reads a sampling heap profile (what alloc-sampler.ts writes) and ranks
 * where a request's bytes are allocated (the top `top` of each list): by area (our `src/` folders, each
 * dependency, Node internals) and by function, with the callers that
 * allocate most through each of the top functions. Bytes, unlike seconds, do
 * not move with this host's neighbours. Also runnable by itself:
 * `tsx test/bench/alloc-report.ts <file.heapprofile> <requests> [top]`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { areaOf, type CallFrame, location } from './profile.js';

interface SamplingNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SamplingNode[];
}

export interface AllocSummary {
  file: string;
  totalBytes: number;
  requests: number;
  byArea: Array<{ area: string; bytes: number }>;
  byFunction: Array<{ name: string; where: string; bytes: number; callers: Array<{ stack: string; bytes: number }> }>;
}

const label = (f: CallFrame) => {
  const where = location(f);
  return `${f.functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
};

const ranked = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);

export function summarizeAlloc(file: string, requests: number, top = 25): AllocSummary {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: SamplingNode }).head;
  const areas = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; bytes: number; callers: Map<string, number> }>();
  let totalBytes = 0;
  const walk = (node: SamplingNode, stack: string[]) => {
    const name = label(node.callFrame);
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      const area = areaOf(node.callFrame);
      areas.set(area, (areas.get(area) ?? 0) + node.selfSize);
      let fn = fns.get(name);
      if (!fn) fns.set(name, (fn = { name: node.callFrame.functionName || '(anonymous)', where: location(node.callFrame), bytes: 0, callers: new Map() }));
      fn.bytes += node.selfSize;
      const callers = stack.slice(-3).reverse().join(' < ') || '(root)';
      fn.callers.set(callers, (fn.callers.get(callers) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, node.callFrame.functionName === '(root)' ? stack : [...stack, name]);
  };
  walk(head, []);
  return {
    file: relative(fileURLToPath(new URL('../../', import.meta.url)), file),
    totalBytes,
    requests,
    byArea: ranked(areas)
      .slice(0, top)
      .map(([area, bytes]) => ({ area, bytes })),
    byFunction: [...fns.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, bytes: f.bytes, callers: ranked(f.callers).slice(0, 2).map(([stack, bytes]) => ({ stack, bytes })) })),
  };
}

export function formatAlloc(s: AllocSummary): string {
  const perRequest = (bytes: number) => `${(bytes / Math.max(1, s.requests) / 1024).toFixed(2).padStart(7)} KB`;
  const share = (bytes: number) => `${((100 * bytes) / Math.max(1, s.totalBytes)).toFixed(1).padStart(5)}%`;
  const lines = [
    `Sampled ${(s.totalBytes / 1e6).toFixed(1)} MB over ${s.requests} requests: ${perRequest(s.totalBytes).trim()} a request (garbage included; ${s.file})`,
    'By area (per request):',
    ...s.byArea.map((a) => `${perRequest(a.bytes)} ${share(a.bytes)}  ${a.area}`),
    'By function, with the callers that allocate most through it:',
  ];
  for (const f of s.byFunction) {
    lines.push(`${perRequest(f.bytes)} ${share(f.bytes)}  ${f.name}${f.where ? `  (${f.where})` : ''}`);
    for (const c of f.callers) lines.push(`${' '.repeat(17)}${perRequest(c.bytes)} < ${c.stack}`);
  }
  lines.push("(an anonymous function without a file is code V8 generated at run time, e.g. zod's compiled object parsers)");
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, requests, top = '25'] = process.argv.slice(2);
  if (!file || !requests) throw new Error('usage: tsx test/bench/alloc-report.ts <file.heapprofile> <requests> [top]');
  process.stdout.write(`${formatAlloc(summarizeAlloc(file, Number(requests), Number(top)))}\n`);
}
