/**
 * The benchmarks `npm run bench -- <name>` runs (`node bin/logflow.js bench <name> [args…]`).
 *
 * Adding one is one line here: `<name>: () => import('./<name>.ts'),` where the module exports
 * `description` and `run(args)`. Each benchmark is runnable on its own, prints a table, and writes
 * its figures to `bench/results/<name>-<date>.json` (see `writeResults`).
 */
export interface BenchModule {
  description: string;
  run(args: string[]): Promise<void>;
}

export const BENCHES: Record<string, () => Promise<BenchModule>> = {
  api: () => import('./api.ts'),
  ingest: () => import('./ingest.ts'),
  metrics: () => import('./metrics.ts'),
  topology: () => import('./topology.ts'),
};
