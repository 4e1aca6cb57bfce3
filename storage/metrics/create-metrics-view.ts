import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFlowConfig } from '../../common/config.ts';
import { MemoryMetricsView } from './memory-view.ts';
import { RedisMetricsView } from './redis-view.ts';
import type { MetricsView } from './types.ts';

export interface CreateMetricsViewOptions {
  /** Redis key prefix (distributed mode). Default `lf:`. */
  prefix?: string;
  /** Embedded mode: persist windows to `<dataDir>/metrics.sqlite`. Default true. */
  persist?: boolean;
}

/** Redis in the distributed (`kafka`) mode, memory (+ SQLite file in the data dir) in the embedded mode. */
export function createMetricsView(
  config: LogFlowConfig,
  options: CreateMetricsViewOptions = {},
): MetricsView {
  if (config.mode === 'kafka') return new RedisMetricsView({ url: config.redisUrl, prefix: options.prefix });
  if (options.persist === false) return new MemoryMetricsView();
  mkdirSync(config.dataDir, { recursive: true });
  return new MemoryMetricsView({ file: join(config.dataDir, 'metrics.sqlite') });
}
