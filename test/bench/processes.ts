/**
 * Child processes of the benchmark (mock, bare proxy, gateway): started with
 * `node --import tsx`, except the gateway, which runs as `npm start` runs it:
 * compiled (scripts/build-server.ts, built once per benchmark) and without
 * tsx, whose loader would add ~50 MB to the RSS measured. Under --cpu-prof
 * the gateway runs from its sources, so the profile names src/ files and
 * lines. Pinned to a core with `taskset` when there is one, killed when the
 * benchmark exits however it exits. Plus what /proc says about them: CPU
 * time and resident memory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';
import { buildServer, SERVER_ENTRY, startCommand } from '../../scripts/build-server.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WATCHDOG = new URL('./watchdog.ts', import.meta.url).href;
const GATEWAY_SOURCE = 'src/main.ts';

/**
 * A JavaScript copy of a TypeScript preload of the benchmark's (a file URL
 * for `--import`), for the compiled gateway, which runs without tsx.
 */
export function compiledPreload(source: string): string {
  const name = fileURLToPath(source).replace(/^.*\//, '').replace(/\.ts$/, '');
  const file = join(mkdtempSync(join(tmpdir(), `gw-bench-${name}-`)), `${name}.mjs`);
  writeFileSync(file, transformSync(readFileSync(fileURLToPath(source), 'utf8'), { loader: 'ts', format: 'esm', target: 'node20' }).code);
  return pathToFileURL(file).href;
}

let compiled: Promise<{ entry: string; watchdog: string }> | undefined;
/** The gateway's build and a JavaScript copy of the watchdog, made once per benchmark. */
function compiledGateway(): Promise<{ entry: string; watchdog: string }> {
  compiled ??= (async () => {
    await buildServer();
    return { entry: relative(REPO_ROOT, SERVER_ENTRY), watchdog: compiledPreload(WATCHDOG) };
  })();
  return compiled;
}

const live = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

process.on('exit', () => killAll('SIGKILL'));

/** `taskset` when it exists and there is more than one core to pin to. */
export const canPin: boolean = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim()) >= 2;
  } catch {
    return false;
  }
})();

/** Pins an existing process and all its threads (the load generator: this process). */
export function pinSelf(cpu: number): boolean {
  if (!canPin) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** The last lines of stderr+stdout, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartOptions {
  name: string;
  /** A TypeScript entry point, relative to the repository root; `src/main.ts` runs compiled (see above). */
  script: string;
  env: Record<string, string>;
  cpu?: number | undefined;
  nodeArgs?: string[];
  /** Resolves when the child is ready; the default waits for `BENCH_READY <port>` on stdout. */
  ready?: (child: Child, output: () => string) => Promise<unknown>;
  readyTimeoutMs?: number;
}

/** Node with `nodeArgv`, under `taskset -c <cpu>` when pinning is possible and a CPU is asked for. */
export function nodeCommand(nodeArgv: string[], cpu?: number): [string, string[]] {
  return canPin && cpu !== undefined ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgv]] : [process.execPath, nodeArgv];
}

export async function startChild(options: StartOptions): Promise<{ child: Child; port: number | undefined }> {
  const nodeArgs = options.nodeArgs ?? [];
  const profiling = nodeArgs.some((a) => a.startsWith('--cpu-prof'));
  const gateway = options.script === GATEWAY_SOURCE;
  const build = gateway && !profiling ? await compiledGateway() : undefined;
  // The gateway gets npm start's environment and flags, compiled or (when profiled) from source.
  const start = gateway ? startCommand() : { env: {}, flags: [] };
  const flags = [...start.flags, ...nodeArgs];
  const nodeArgv = build
    ? ['--import', build.watchdog, ...flags, build.entry]
    : ['--import', 'tsx', '--import', WATCHDOG, ...flags, options.script];
  const [command, args] = nodeCommand(nodeArgv, options.cpu);
  const proc = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...start.env, ...options.env, BENCH_CHILD: options.name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let output = '';
  // BENCH_CHILD_LOG_DIR keeps each child's whole output (e.g. the gateway's --trace-gc lines), not only the tail.
  const logFile = process.env.BENCH_CHILD_LOG_DIR ? join(process.env.BENCH_CHILD_LOG_DIR, `${options.name}.log`) : undefined;
  const keep = (piece: Buffer) => {
    output = (output + piece.toString('utf8')).slice(-20_000);
    if (logFile) appendFileSync(logFile, piece);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    });
  });
  if (proc.pid === undefined) throw new Error(`${options.name}: could not start`);
  const child: Child = {
    name: options.name,
    pid: proc.pid, // taskset execs node, so this is node's pid
    process: proc,
    tail: () => output.split('\n').slice(-25).join('\n'),
    async stop(graceMs = 40_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };

  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let port: number | undefined;
  const readiness = options.ready
    ? options.ready(child, () => output)
    : new Promise<void>((resolve) => {
        const check = () => {
          const m = /BENCH_READY (\d+)/.exec(output);
          if (m) {
            port = Number(m[1]);
            proc.stdout!.off('data', check);
            resolve();
          }
        };
        proc.stdout!.on('data', check);
      });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      readiness,
      exited.then((code) => {
        throw new Error(`${options.name} exited (code ${code}) before it was ready:\n${child.tail()}`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${options.name} not ready after ${timeoutMs} ms:\n${child.tail()}`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    await child.stop(2_000);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return { child, port };
}

/** Stops every child still running (on an error path). */
export async function stopAll(): Promise<void> {
  killAll('SIGTERM');
  const deadline = Date.now() + 5_000;
  while (live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  killAll('SIGKILL');
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User and system CPU seconds of a process, all threads, from /proc/<pid>/stat. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}

/** User + system CPU seconds of a process, all threads. */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/**
 * Peak resident memory over a window: VmHWM after resetting it through
 * /proc/<pid>/clear_refs where the kernel allows, and VmRSS sampled every
 * 100 ms either way.
 */
export class RssWatch {
  #peakKb = 0;
  #hwmReset = false;
  readonly #timer: NodeJS.Timeout;
  readonly samples: Array<{ t: number; mb: number }> = [];

  constructor(private readonly pid: number) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      this.#hwmReset = true;
    } catch {
      this.#hwmReset = false;
    }
    const started = Date.now();
    const sample = () => {
      try {
        const kb = statusKb(pid, 'VmRSS');
        this.#peakKb = Math.max(this.#peakKb, kb);
        this.samples.push({ t: (Date.now() - started) / 1000, mb: kb / 1024 });
      } catch {
        // the process is gone
      }
    };
    sample();
    this.#timer = setInterval(sample, 100);
  }

  /** Peak RSS in MB over the window. */
  stop(): number {
    clearInterval(this.#timer);
    try {
      if (this.#hwmReset) this.#peakKb = Math.max(this.#peakKb, statusKb(this.pid, 'VmHWM'));
    } catch {
      // gone
    }
    return this.#peakKb / 1024;
  }
}

export function rssMb(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/** Busy CPU seconds of the whole machine, all cores (from /proc/stat). */
export function systemBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLK_TCK;
}

/** CPU seconds of every process with this command name (e.g. all `postgres` backends). */
export function cpuSecondsByName(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== comm) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Established TCP connections whose local port is `port` (the server side), from /proc/net/tcp. */
export function establishedTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const cols = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st (01 = ESTABLISHED)
      if (cols[1]?.endsWith(hex) && cols[3] === '01') n++;
    }
  }
  return n;
}

/**
 * Moves a local Postgres server to `cpu`, so the gateway has its core to
 * itself as the targets assume (in production the database is another
 * machine). Only the postmaster is pinned: the backends it forks for the
 * gateway inherit the mask. Returns the function that restores the old mask,
 * or undefined when the server is not local or cannot be pinned.
 */
export async function pinPostgres(databaseUrl: string, cpu: number): Promise<(() => void) | undefined> {
  if (!canPin) return undefined;
  const { default: postgres } = await import('postgres');
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let postmaster: number;
  try {
    const [row] = await sql<Array<{ pid: number }>>`select pg_backend_pid() as pid`;
    // /proc/<pid>/stat: "pid (comm) state ppid ..." (read while the backend lives); a remote server's pid is not ours to find.
    const stat = readFileSync(`/proc/${row!.pid}/stat`, 'utf8');
    postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  } finally {
    await sql.end();
  }
  try {
    if (!readFileSync(`/proc/${postmaster}/comm`, 'utf8').startsWith('postgres')) return undefined;
    const before = /:\s*([0-9a-f]+)\s*$/.exec(execFileSync('taskset', ['-p', String(postmaster)], { encoding: 'utf8' }))?.[1];
    if (!before) return undefined;
    execFileSync('taskset', ['-p', '-c', String(cpu), String(postmaster)], { stdio: 'ignore' });
    return () => {
      try {
        execFileSync('taskset', ['-p', before, String(postmaster)], { stdio: 'ignore' });
      } catch {
        // the server went away
      }
    };
  } catch {
    return undefined;
  }
}
