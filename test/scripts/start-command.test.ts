import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/build-server.js';

const readme = readFileSync(new URL('../bench/README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };

describe('npm start', () => {
  // The benchmark runs the gateway as this command does; the README tells operators what it is.
  it('is read into the environment and Node flags the benchmark gives the gateway', () => {
    const { env, flags } = startCommand();
    const rebuilt = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'node', ...flags, 'dist/server/main.js'].join(' ');
    expect(rebuilt).toBe(pkg.scripts.start);
    expect(Object.keys(env)).toContain('MALLOC_ARENA_MAX');
    expect(flags).toContain('--initial-old-space-size=64');
  });

  it('is the command the bench README’s memory settings quote', () => {
    expect(readme).toContain(`\`${pkg.scripts.start}\``);
  });
});
