// Serves the web dashboard (project view at `/`, operator console at
// `/console`) from the Vite build in dist/web/<source hash>/. The bundle is
// small, so it is read into memory once and sent pre-compressed. When the
// build for the current sources is missing (a fresh clone, edited sources) it
// is built on demand in a child process: eagerly at start under `npm start`,
// lazily on the first page request under the test runner.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import { packageRoot } from '../../package-root.js';

const ROOT = packageRoot(import.meta.url);
export const WEB_SOURCE_DIR = join(ROOT, 'src', 'web');
export const WEB_DIST_DIR = join(ROOT, 'dist', 'web');
export const WEB_BUILD_SCRIPT = join(ROOT, 'scripts', 'build-web.ts');
/** Packages that end up in (or make) the bundle: a version change means a rebuild. */
const BUNDLED_PACKAGES = ['vite', 'preact', 'htm', 'uplot', 'graphql-ws'];
const BUILD_TIMEOUT_MS = 120_000;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A short hash of everything the bundle is made from; undefined when the sources are not shipped. */
export function webSourceHash(): string | undefined {
  if (!existsSync(WEB_SOURCE_DIR)) return undefined;
  const hash = createHash('sha256');
  const inputs = [...listFiles(WEB_SOURCE_DIR), ...(existsSync(WEB_BUILD_SCRIPT) ? [WEB_BUILD_SCRIPT] : [])].sort();
  for (const file of inputs) {
    hash.update(relative(ROOT, file).split(sep).join('/'));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  for (const name of BUNDLED_PACKAGES) hash.update(`${name}@${pkg.devDependencies?.[name] ?? pkg.dependencies?.[name] ?? ''}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** The folder the current sources build into (or, without sources, the newest build there is). */
export function webBuildDir(): string | undefined {
  const hash = webSourceHash();
  if (hash) return join(WEB_DIST_DIR, hash);
  if (!existsSync(WEB_DIST_DIR)) return undefined;
  const builds = readdirSync(WEB_DIST_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(WEB_DIST_DIR, e.name, 'index.html')))
    .map((e) => join(WEB_DIST_DIR, e.name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return builds[0];
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  etag: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of listFiles(dir)) {
    const path = `/${relative(dir, file).split(sep).join('/')}`;
    const body = readFileSync(file);
    const ext = path.slice(path.lastIndexOf('.') + 1);
    assets.set(path, {
      type: TYPES[ext] ?? 'application/octet-stream',
      body,
      gzip: gzipSync(body, { level: 9 }),
      br: brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      // Vite names everything under assets/ by content hash.
      immutable: path.startsWith('/assets/'),
    });
  }
  return assets;
}

/** Runs scripts/build-web.ts in a child process (keeps the bundler out of the gateway's memory). */
function runBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WEB_BUILD_SCRIPT], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the web build ${signal ? `was killed (${signal})` : `exited with ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

// The security headers of every dashboard response. connect-src 'self'
// covers the same-origin websocket of the GraphQL subscriptions.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebRoutesOptions {
  /** Start building at registration instead of on the first page request. Default: not under the test runner. */
  eagerBuild?: boolean;
}

export function webRoutes(app: FastifyInstance, options: WebRoutesOptions = {}): void {
  let loading: Promise<Map<string, Asset>> | undefined;
  const assets = (): Promise<Map<string, Asset>> => {
    loading ??= (async () => {
      const dir = webBuildDir();
      if (!dir) throw new Error('there are neither web sources (src/web) nor a build (dist/web)');
      if (!existsSync(join(dir, 'index.html'))) {
        if (!existsSync(WEB_BUILD_SCRIPT)) throw new Error(`no build at ${relative(ROOT, dir)} and no build script`);
        await runBuild();
      }
      return loadAssets(dir);
    })();
    // A failed build is retried by the next request rather than cached forever.
    loading.catch(() => (loading = undefined));
    return loading;
  };
  if (options.eagerBuild ?? !process.env.VITEST) {
    assets().catch((err: unknown) => app.log.error({ err }, 'web dashboard build failed; it is retried on the next page request'));
  }

  const send = async (request: FastifyRequest, reply: FastifyReply, path: string) => {
    let files: Map<string, Asset>;
    try {
      files = await assets();
    } catch (err) {
      request.log.error({ err }, 'web dashboard unavailable');
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          `The web dashboard could not be built (${err instanceof Error ? err.message : String(err)}).\n` +
            'Install the development dependencies (npm ci) and run "npm run build:web", then reload.\n',
        );
    }
    const asset = files.get(path);
    if (!asset) {
      throw new GatewayError('not_found', `Unknown route: ${request.method} ${request.url.split('?')[0]}`);
    }
    reply
      .header('content-type', asset.type)
      .header('etag', asset.etag)
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    const accepted = String(request.headers['accept-encoding'] ?? '');
    if (/\bbr\b/.test(accepted)) return reply.header('content-encoding', 'br').send(asset.br);
    if (/\bgzip\b/.test(accepted)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };

  // Both views are one page; the path picks the view, nothing secret is ever in it.
  app.get('/', (request, reply) => send(request, reply, '/index.html'));
  app.get('/console', (request, reply) => send(request, reply, '/index.html'));
  app.get('/favicon.svg', (request, reply) => send(request, reply, '/favicon.svg'));
  app.get<{ Params: { '*': string } }>('/assets/*', (request, reply) => send(request, reply, `/assets/${request.params['*']}`));
}
