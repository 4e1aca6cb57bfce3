/**
 * The shipper's Prometheus metrics, in the same families as the topology stages
 * (`logflow_stage_records_{in,out}_total`, `logflow_stage_errors_total`) with stage="shipper",
 * plus how far behind the files it follows are. Gauges are computed when scraped.
 */
import { Gauge, type Registry } from 'prom-client';
import { TopologyMetrics } from '../../topology/runtime/metrics.ts';

export interface ShipperMetrics {
  read(n: number): void;
  acked(n: number): void;
  sendError(): void;
}

export function shipperMetrics(
  registry: Registry,
  sample: () => { behind: number; open: number },
): ShipperMetrics {
  const stage = new TopologyMetrics(registry);
  const gauge = (name: string, help: string, pick: (s: { behind: number; open: number }) => number) => {
    if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(sample()));
      },
    });
  };
  gauge('logflow_shipper_bytes_behind', 'Bytes in followed files not yet acknowledged', (s) => s.behind);
  gauge('logflow_shipper_files_open', 'Files the shipper currently follows', (s) => s.open);
  const labels = { stage: 'shipper' };
  return {
    read: (n) => stage.recordsIn.inc(labels, n),
    acked: (n) => stage.recordsOut.inc(labels, n),
    sendError: () => stage.errors.inc({ ...labels, kind: 'send' }),
  };
}
