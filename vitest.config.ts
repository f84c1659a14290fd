import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A throwaway PostgreSQL server for the store tests; tests/support/postgres.ts reads its URL.
    globalSetup: ['tests/support/postgres-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
