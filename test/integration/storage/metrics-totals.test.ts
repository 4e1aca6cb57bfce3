import { loadConfig } from '../../../common/config.ts';
import { RedisMetricsView } from '../../../storage/metrics/redis-view.ts';
import { randomName } from '../../helpers/names.ts';
import { NOW } from '../../unit/metrics/view-contract.ts';
import { metricsTotalsContract } from '../../unit/storage/metrics-totals-contract.ts';

const { redisUrl } = loadConfig();

metricsTotalsContract(
  'redis',
  async () => new RedisMetricsView({ url: redisUrl, prefix: `${randomName('lftest')}:`, now: () => NOW }),
);
