import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Each test file runs in its own child process with a fresh module graph.
    pool: 'forks',
    isolate: true,
    env: {
      LOG_LEVEL: 'silent',
    },
  },
});
