import { MemoryMetricsView } from '../../../storage/metrics/memory-view.ts';
import { NOW } from '../metrics/view-contract.ts';
import { metricsTotalsContract } from './metrics-totals-contract.ts';

metricsTotalsContract('memory', async () => new MemoryMetricsView({ now: () => NOW }));
