/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks where
 * the time went: self time per function, total (inclusive) time per
 * function, and self time per area (our `src/` files, each dependency,
 * Node internals, GC). Also runnable by itself:
 * `tsx test/bench/profile.ts <file.cpuprofile> [top]`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  selfShare: number;
  totalMs: number;
  totalShare: number;
}

export interface ProfileSummary {
  file: string;
  /** The part of the profile summarised, in seconds from its start (all of it when absent). */
  window?: { fromS: number; toS: number };
  /** Sampled time, idle excluded. */
  busyMs: number;
  idleMs: number;
  bySelf: ProfileEntry[];
  byTotal: ProfileEntry[];
  byArea: Array<{ area: string; selfMs: number; share: number }>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const sources = new Map<string, string[] | null>();

/**
 * tsx compiles our TypeScript on the fly, so a profile's line numbers are the
 * compiled code's. For a .ts file, find the function's definition in the
 * source instead (method, function, or `name =`/`name:` arrow).
 */
function sourceLine(path: string, name: string, fallback: number): number {
  if (!name || name.startsWith('(')) return fallback;
  let lines = sources.get(path);
  if (lines === undefined) {
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch {
      lines = null;
    }
    sources.set(path, lines);
  }
  if (!lines) return fallback;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/^#/, '#?');
  const patterns = [
    new RegExp(`^\\s*(?:export\\s+)?(?:async\\s+)?function\\*?\\s+${escaped}\\b`),
    new RegExp(`^\\s*(?:(?:public|private|protected|static|async|override|readonly|get|set)\\s+)*\\*?#?${escaped}\\s*(?:<[^>]*>)?\\(`),
    new RegExp(`^\\s*(?:export\\s+)?(?:const|let|var)\\s+${escaped}\\s*[=:]`),
    new RegExp(`\\b${escaped}\\s*[:=]\\s*(?:async\\s*)?(?:\\([^)]*\\)|\\w+)\\s*=>`),
  ];
  for (const re of patterns) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return i + 1;
  }
  return fallback;
}

export function location(frame: CallFrame): string {
  if (!frame.url) return '';
  let path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const line = path.endsWith('.ts') ? sourceLine(path, frame.functionName, frame.lineNumber + 1) : frame.lineNumber + 1;
  if (path.startsWith(ROOT)) path = relative(ROOT, path);
  path = path.replace(/^.*node_modules\//, '');
  return `${path}:${line}`;
}

/** src/core/billing/settle.ts → src/core/billing; a package by its name; node: internals. */
export function areaOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return '(gc)';
    if (frame.functionName === '(idle)') return '(idle)';
    if (frame.functionName === '(program)') return '(program: native, not JS)';
    return '(native)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.startsWith(ROOT) ? relative(ROOT, path) : path;
  const parts = rel.split('/');
  return parts.length > 2 ? parts.slice(0, parts.length - 1).join('/') : rel;
}

/**
 * `window`: only samples between these two moments, as microseconds of the
 * monotonic clock (`process.hrtime.bigint() / 1000n` in any process on the
 * machine; V8 stamps profiles with the same clock), e.g. the measured
 * scenarios without start-up and warm-up.
 */
export function summarizeProfile(file: string, top = 20, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const inWindow = window && window.fromUs < profile.endTime && window.toUs > profile.startTime ? window : undefined;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}\u0000${location(f)}`;

  // A sample's duration is the delta to the next sample.
  const selfUs = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (inWindow && (t < inWindow.fromUs || t > inWindow.toUs)) continue;
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }

  const self = new Map<string, { frame: CallFrame; us: number }>();
  const total = new Map<string, { frame: CallFrame; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const k = key(frame);
    const s = self.get(k) ?? { frame, us: 0 };
    s.us += us;
    self.set(k, s);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    // Inclusive time: once per distinct function on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      if (f.functionName === '(root)') continue;
      const fk = key(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      const t = total.get(fk) ?? { frame: f, us: 0 };
      t.us += us;
      total.set(fk, t);
    }
  }

  const entry = (frame: CallFrame, selfMs: number, totalMs: number): ProfileEntry => ({
    name: frame.functionName || '(anonymous)',
    where: location(frame),
    area: areaOf(frame),
    selfMs,
    selfShare: busyUs ? (selfMs * 1000) / busyUs : 0,
    totalMs,
    totalShare: busyUs ? (totalMs * 1000) / busyUs : 0,
  });
  const bySelf = [...self.entries()]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([k, s]) => entry(s.frame, s.us / 1000, (total.get(k)?.us ?? s.us) / 1000));
  const byTotal = [...total.entries()]
    .filter(([, t]) => !['(program)', '(garbage collector)'].includes(t.frame.functionName))
    .sort((a, b) => b[1].us - a[1].us)
    .filter(([, t]) => t.us >= busyUs * 0.001)
    .map(([k, t]) => entry(t.frame, (self.get(k)?.us ?? 0) / 1000, t.us / 1000));
  const byArea = [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, selfMs: us / 1000, share: busyUs ? us / busyUs : 0 }));
  return {
    file,
    ...(inWindow ? { window: { fromS: (inWindow.fromUs - profile.startTime) / 1e6, toS: (inWindow.toUs - profile.startTime) / 1e6 } } : {}),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    bySelf,
    byTotal,
    byArea,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatProfile(s: ProfileSummary, top = 20, requests?: number): string {
  const lines: string[] = [];
  lines.push(`Profile ${s.file}`);
  if (s.window) lines.push(`window: ${s.window.fromS.toFixed(1)} s to ${s.window.toS.toFixed(1)} s of the profile (the measured scenarios; start-up and warm-up left out)`);
  lines.push(
    `busy ${(s.busyMs / 1000).toFixed(2)} s sampled, idle ${(s.idleMs / 1000).toFixed(2)} s; shares are of busy time` +
      (requests ? `; ${requests} requests, ${(s.busyMs / requests).toFixed(3)} ms busy per request` : ''),
  );
  lines.push('');
  lines.push(`Top ${top} by self time:`);
  lines.push('   self ms  self%  total%  function  (where)');
  for (const e of s.bySelf.slice(0, top)) {
    lines.push(`${e.selfMs.toFixed(0).padStart(10)} ${pct(e.selfShare).padStart(6)} ${pct(e.totalShare).padStart(7)}  ${e.name}  (${e.where || e.area})`);
  }
  lines.push('');
  lines.push('Self time by area:');
  for (const a of s.byArea.slice(0, 25)) lines.push(`${a.selfMs.toFixed(0).padStart(10)} ${pct(a.share).padStart(6)}  ${a.area}`);
  lines.push('');
  lines.push('Inclusive time, our code (src/) and the main entry points:');
  const ours = s.byTotal.filter((e) => e.where.startsWith('src/')).slice(0, 40);
  for (const e of ours) lines.push(`${e.totalMs.toFixed(0).padStart(10)} ${pct(e.totalShare).padStart(6)}  ${e.name}  (${e.where})`);
  lines.push('(inclusive times stop at `await`: work resumed from a promise is not counted under the function that awaited it)');
  return lines.join('\n');
}

/**
 * The newest `.cpuprofile` in a folder written after `since` (ms epoch); with
 * a pid, only that process's main thread (Node names them
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, thread 0 is main).
 */
export function newestProfile(dir: string, since: number, pid?: number): string | undefined {
  let best: { file: string; mtime: number } | undefined;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!name.endsWith('.cpuprofile')) continue;
    if (pid !== undefined) {
      const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(name);
      if (!m || Number(m[1]) !== pid || Number(m[2]) !== 0) continue;
    }
    const file = join(dir, name);
    const mtime = statSync(file).mtimeMs;
    if (mtime >= since && (!best || mtime > best.mtime)) best = { file, mtime };
  }
  return best?.file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx test/bench/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 20);
  process.stdout.write(`${formatProfile(summarizeProfile(file, top), top)}\n`);
}
