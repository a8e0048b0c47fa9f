import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAlloc, summarizeAlloc } from '../bench/alloc-report.js';
import { compiledPreload } from '../bench/processes.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '0' });
const node = (functionName: string, selfSize: number, children: unknown[] = [], url = '') => ({ callFrame: frame(functionName, url), selfSize, id: 0, children });

describe('the benchmark allocation report (npm run bench -- --alloc)', () => {
  it('adds up what each function allocated, per request, with the callers it came through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-alloc-'));
    const file = join(dir, 'p.heapprofile');
    const head = node('(root)', 0, [
      node('handler', 1000, [node('build', 3000, [], 'node:internal/x')]),
      node('other', 0, [node('build', 1000, [], 'node:internal/x')]),
    ]);
    writeFileSync(file, JSON.stringify({ head, samples: [] }));
    const s = summarizeAlloc(file, 2);
    expect(s.totalBytes).toBe(5000);
    expect(s.byFunction.map((f) => [f.name, f.bytes])).toEqual([
      ['build', 4000],
      ['handler', 1000],
    ]);
    expect(s.byFunction[0]!.callers).toEqual([
      { stack: 'handler', bytes: 3000 },
      { stack: 'other', bytes: 1000 },
    ]);
    expect(s.byArea).toEqual([
      { area: 'node:internal', bytes: 4000 },
      { area: '(native)', bytes: 1000 },
    ]);
    expect(formatAlloc(s).split('\n')[0]).toContain('2.44 KB a request');
  });

  it('samples, in a running process, between two SIGUSR2s, garbage included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-alloc-'));
    const script = join(dir, 'churn.mjs');
    // Allocates garbage that a young collection frees: only a sampler that keeps collected objects sees it.
    writeFileSync(script, 'let kept;\nfunction churn() { const a = []; for (let i = 0; i < 1e4; i++) a.push({ i }); kept = a; }\nsetInterval(churn, 2); console.log("ready");\n');
    const child = spawn(process.execPath, ['--import', compiledPreload(new URL('../bench/alloc-sampler.ts', import.meta.url).href), script], {
      env: { ...process.env, BENCH_ALLOC_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await once(child.stdout!, 'data');
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGUSR2');
      const file = join(dir, `${child.pid}-1.heapprofile`);
      for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
      const s = summarizeAlloc(file, 1);
      expect(s.totalBytes).toBeGreaterThan(1_000_000);
      expect(s.byFunction[0]!.name).toBe('churn');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
