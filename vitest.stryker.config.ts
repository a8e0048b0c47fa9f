import { defineConfig } from 'vitest/config';

// The tests Stryker runs against mutants of src/core/billing and src/core/rate-limit
// (stryker.config.json): the core unit tests of money and limits. Every
// mutant reruns the files of the tests that cover it; an end-to-end file
// starts a whole gateway each time (every chat request passes the limiter
// and the meter), which made one mutant cost minutes on a shared 2-core
// machine, so the unit tests must kill the mutants on their own.
// PGlite unless DATABASE_URL is set: then each test file gets a fresh
// Postgres database, which starts far faster than PGlite's WebAssembly on a
// busy machine. The Redis limiter's tests run when TEST_REDIS_URL is set.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: [
      'test/core/money.test.ts',
      'test/core/billing.test.ts',
      'test/core/settle-plan.test.ts',
      'test/core/escrow.test.ts',
      'test/core/metering.test.ts',
      'test/core/settlement.test.ts',
      'test/core/key-balance.test.ts',
      'test/core/rate-limiter.test.ts',
      'test/core/rate-window.test.ts',
      'test/core/admit-rate.test.ts',
      'test/core/redis-rate-limiter.test.ts',
    ],
    env: { GATEWAY_TEST_DB: process.env.DATABASE_URL ? 'postgres' : 'pglite' },
  },
});
