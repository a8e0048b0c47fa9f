// Compiles the server (src/, less the browser dashboard in src/web that Vite
// builds) to JavaScript in dist/server/, one file per source file, for
// `npm start` (run as `prestart`) and the benchmark. Running the sources
// through tsx instead costs ~50 MB of resident memory (its loader thread and
// esbuild service) and start-up time; this emit takes well under a second.
// Types are not checked here: that is `npm run typecheck`.
//
// The output goes to a temporary folder first and is renamed into place, so
// a gateway starting meanwhile never loads half a build.
//
//   npm run build
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
export const SERVER_DIST_DIR = join(ROOT, 'dist', 'server');
export const SERVER_ENTRY = join(SERVER_DIST_DIR, 'main.js');

/** One `NAME=value ` assignment before `node` in the start script. */
const ENV_PAIR = /([A-Z_][A-Z0-9_]*)=(\S+) /;

/**
 * How `npm start` runs the gateway (package.json's `start` is
 * `[VAR=value ...] node [--flags] dist/server/main.js`), so the benchmark
 * runs it as operators do: environment read by the C library before Node
 * starts (malloc's arenas) and V8 heap sizes, neither of which can be set
 * once the process runs.
 */
export function startCommand(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = pkg.scripts?.start ?? '';
  const match = new RegExp(`^(?<env>(?:${ENV_PAIR.source})*)node(?<flags>(?: --[a-z0-9-]+(?:=\\S+)?)*) dist/server/main\\.js$`).exec(start);
  if (!match) throw new Error(`package.json: expected "start" to be "[VAR=value ...] node [--flags] dist/server/main.js", got ${JSON.stringify(start)}`);
  const env = Object.fromEntries([...match.groups!['env']!.matchAll(new RegExp(ENV_PAIR, 'g'))].map((m) => [m[1]!, m[2]!]));
  return { env, flags: match.groups!['flags']!.split(' ').filter(Boolean) };
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== join(SRC, 'web')) out.push(...sources(path));
    } else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

/** Emits dist/server/ from src/; resolves with the number of files written. */
export async function buildServer(): Promise<number> {
  const entryPoints = sources(SRC);
  const tmp = `${SERVER_DIST_DIR}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build({
      entryPoints,
      outbase: SRC,
      outdir: tmp,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      // Class fields keep the semantics tsc gives them under target ES2023.
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'warning',
    });
    const old = `${SERVER_DIST_DIR}.old-${process.pid}-${Date.now()}`;
    // Two builds at once (a bench and npm start): each swaps its own output in; the last one stays.
    for (let attempt = 0; ; attempt++) {
      try {
        if (existsSync(SERVER_DIST_DIR)) renameSync(SERVER_DIST_DIR, old);
        renameSync(tmp, SERVER_DIST_DIR);
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
      } finally {
        rmSync(old, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return entryPoints.length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const files = await buildServer();
  process.stdout.write(`built ${files} files into ${relative(ROOT, SERVER_DIST_DIR).split(sep).join('/')} in ${Date.now() - started} ms\n`);
}
