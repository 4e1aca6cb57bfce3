// Runs this folder's integration tests alone (without the shared global setup) while that lands.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/integration/api/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
