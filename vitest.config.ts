import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites that do not test the store keep sessions in memory; the store suites choose their driver.
    env: { STORE: 'memory' },
    reporters: ['default'],
  },
});
