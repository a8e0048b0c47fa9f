// Builds the web dashboard (src/web) with Vite into dist/web/<source hash>/,
// the folder src/rest/routes/web.ts serves. The build goes to a temporary
// folder first and is renamed into place, so gateways building at the same
// time (parallel test files, replicas) never see half a build.
//
//   npm run build:web
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { WEB_DIST_DIR, WEB_SOURCE_DIR, webBuildDir } from '../src/rest/routes/web.js';

async function main(): Promise<void> {
  const outDir = webBuildDir();
  if (!outDir || !existsSync(WEB_SOURCE_DIR)) throw new Error('src/web is missing: nothing to build');
  if (existsSync(join(outDir, 'index.html'))) {
    process.stdout.write(`web dashboard is up to date: ${outDir}\n`);
    return;
  }
  const tmp = `${join(WEB_DIST_DIR, '.tmp-')}${process.pid}-${Date.now()}`;
  const started = Date.now();
  try {
    await build({
      configFile: false,
      root: WEB_SOURCE_DIR,
      base: '/',
      logLevel: 'warn',
      publicDir: join(WEB_SOURCE_DIR, 'public'),
      build: {
        outDir: tmp,
        emptyOutDir: true,
        target: 'es2022',
        // Every browser this targets has modulepreload; no polyfill, no inline script (CSP).
        modulePreload: { polyfill: false },
        reportCompressedSize: false,
        sourcemap: false,
        assetsInlineLimit: 0,
      },
    });
    try {
      renameSync(tmp, outDir);
    } catch (err) {
      // Another process finished the same build first: theirs is identical.
      if (!existsSync(join(outDir, 'index.html'))) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // Older builds are of older sources; running gateways hold theirs in memory.
  for (const entry of readdirSync(WEB_DIST_DIR, { withFileTypes: true })) {
    const path = join(WEB_DIST_DIR, entry.name);
    if (entry.isDirectory() && path !== outDir && !entry.name.startsWith('.tmp-')) rmSync(path, { recursive: true, force: true });
  }
  process.stdout.write(`web dashboard built in ${Date.now() - started} ms: ${outDir}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`web build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
