/** The metrics materialiser (logs-metrics → MetricsView, rebuilt from the topic when Redis loses it). */
export {
  createRedisMaterialiser,
  type MarkedView,
  type RedisMaterialiser,
  type RedisMaterialiserOptions,
} from './materialiser.ts';
