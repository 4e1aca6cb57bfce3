import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure operators and topologies on the in-memory transport — no services)
// and `integration` (real Kafka, Schema Registry, Elasticsearch, PostgreSQL, Redis, which the
// global setup makes reachable, starting them through `logflow services up` when needed).
export default defineConfig({
  test: {
    // Integration files share one broker and one Elasticsearch on a 2-core machine: one file at a time.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
