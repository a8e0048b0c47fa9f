import { defineConfig } from 'vitest/config';

// PGlite always; real Postgres as a second project when DATABASE_URL is set (CI).
const postgres = process.env.DATABASE_URL
  ? [
      {
        extends: true as const,
        test: {
          name: 'postgres',
          include: ['test/e2e/**/*.test.ts', 'test/core/**/*.test.ts', 'test/graphql/**/*.test.ts', 'test/security/**/*.test.ts', 'test/faults/upstream-hang.test.ts'],
          env: { GATEWAY_TEST_DB: 'postgres' },
        },
      },
    ]
  : [];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [{ extends: true, test: { name: 'pglite', include: ['test/**/*.test.ts'], exclude: ['test/bench/**'] } }, ...postgres],
  },
});
