/**
 * The alert stage's processor: every `logs-metrics` record updates the service's recent windows
 * and evaluates that service's alerts; a wall-clock punctuator (every `tickMs`) evaluates
 * everything — which is how absence, `for_seconds`, `keep_firing_seconds` and windows sliding out
 * of range are noticed when no records arrive. State lives in a changelog-backed KeyValueStore,
 * so a restarted task resumes with the same alert states and never emits a FIRING twice.
 *
 * Partition ownership: windows of a service arrive on one partition (logs-metrics is keyed by
 * service), so each task evaluates the services it has seen; a rule naming a service that was
 * never seen is evaluated only by the task whose partition that service would hash to.
 */
import type { AlertRule } from '../../storage/db/types.ts';
import type { MetricWindow } from '../../storage/metrics/types.ts';
import type { StreamRecord } from '../../topology/record.ts';
import type { Processor, ProcessorContext } from '../../topology/stages/process.ts';
import type { KeyValueStore } from '../../topology/stores/state-store.ts';
import { partitionForKey } from '../../topology/transport/murmur2.ts';
import { AlertEngine, type AlertKeyValue, type AlertStoreValue } from './alert-engine.ts';
import type { RuleCache } from './rule-cache.ts';
import type { AlertEvent } from './types.ts';

export const ALERT_STORE = 'alert-state';

export interface AlertProcessorOptions {
  rules: RuleCache;
  /** Partitions of the metrics topic (to place never-seen services on one task). */
  partitions: number;
  tickMs: number;
}

export function alertProcessor(
  options: AlertProcessorOptions,
): () => Processor<string, MetricWindow, string, AlertEvent> {
  return () => {
    let ctx: ProcessorContext<string, AlertEvent>;
    let engine: AlertEngine;
    let template: Omit<StreamRecord<string, AlertEvent>, 'key' | 'value' | 'timestamp'> | null = null;

    const rulesForTask = (): AlertRule[] =>
      options.rules
        .current()
        .filter(
          (r) =>
            r.service === null ||
            engine.services().includes(r.service) ||
            partitionForKey(Buffer.from(r.service), options.partitions) === ctx.partition,
        );

    const emit = (events: AlertEvent[]) => {
      for (const event of events) {
        ctx.forward({
          topic: template?.topic ?? '',
          partition: template?.partition ?? ctx.partition,
          offset: template?.offset ?? -1,
          headers: {},
          key: event.fingerprint,
          value: event,
          timestamp: event.emitted_at,
        });
      }
    };

    return {
      init(context) {
        ctx = context;
        const store = context.getStateStore<KeyValueStore<string, AlertStoreValue>>(ALERT_STORE);
        const kv: AlertKeyValue = {
          get: (k) => store.get(k),
          put: (k, v) => store.put(k, v),
          delete: (k) => void store.delete(k),
          entries: () => store.all(),
        };
        engine = new AlertEngine(kv);
        context.schedule(options.tickMs, 'wall-clock', (now) => {
          // Until the first load the rule list is empty: evaluating then would resolve every alert.
          if (!options.rules.ready) return;
          emit(engine.evaluate(rulesForTask(), options.rules.currentSilences(), now));
        });
      },
      process(record) {
        const { topic, partition, offset, headers } = record;
        template = { topic, partition, offset, headers };
        if (!record.value) return;
        engine.observe(record.value);
        if (!options.rules.ready) return;
        emit(
          engine.evaluate(
            rulesForTask(),
            options.rules.currentSilences(),
            ctx.wallClockTime(),
            record.value.service,
          ),
        );
      },
    };
  };
}
