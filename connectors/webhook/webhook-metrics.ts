/**
 * The webhook connector's Prometheus metrics, on the registry the process serves at `/metrics`
 * (the app's shared registry when given, else prom-client's default `register`). One set per
 * registry, shared by every dispatcher in the process — built the same get-or-create way as the
 * sinks' metrics (connectors/elasticsearch/sink-metrics.ts).
 */
import { Counter, Histogram, type Registry, register } from 'prom-client';

/** delivered: a receiver accepted it; retried: a failed attempt that will be retried;
 * gave_up: retries exhausted or a non-retriable answer; refused: the target guard refused the URL. */
export type WebhookDeliveryResult = 'delivered' | 'retried' | 'gave_up' | 'refused';

export interface WebhookMetrics {
  deliveries: Counter<'result'>;
  /** One observation per HTTP attempt; outcome ok (2xx) or failed. */
  deliverySeconds: Histogram<'outcome'>;
}

const byRegistry = new WeakMap<Registry, WebhookMetrics>();

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function webhookMetrics(registry: Registry = register): WebhookMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics) return metrics;
  const registers = [registry];
  metrics = {
    deliveries:
      existing(registry, 'logflow_webhook_deliveries_total') ??
      new Counter({
        name: 'logflow_webhook_deliveries_total',
        help: 'Webhook delivery attempts per receiver, by result (delivered, retried, gave_up, refused)',
        labelNames: ['result'] as const,
        registers,
      }),
    deliverySeconds:
      existing(registry, 'logflow_webhook_delivery_seconds') ??
      new Histogram({
        name: 'logflow_webhook_delivery_seconds',
        help: 'Latency of one webhook POST attempt, by outcome (ok, failed)',
        labelNames: ['outcome'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
