/**
 * The combiner in front of the repartition: counts logs per (service, minute, level) inside the
 * input task and forwards one partial-count record per (service, minute) every `intervalMs` of
 * wall-clock time, instead of one record per log. The shuffle then carries a few records per
 * second instead of every log, which is what lets one process aggregate tens of thousands of logs
 * per second. Partial counts wait in a changelog-backed store, so under exactly-once the counts
 * forwarded and the input offsets committed always agree, also across a crash.
 *
 * The forwarded record's timestamp is the minute's start, so the windowed aggregates downstream
 * put it into the right 1m and 1h windows. With `intervalMs` 0 every log is forwarded at once as a
 * partial count of one (no combining).
 */

import type { ParsedLog } from '../../storage/logs/types.ts';
import { MINUTE_MS, windowStartOf } from '../../storage/metrics/windows.ts';
import type { StreamRecord } from '../../topology/record.ts';
import type { Processor, ProcessorContext } from '../../topology/stages/process.ts';
import type { KeyValueStore } from '../../topology/stores/state-store.ts';

export const PARTIAL_STORE = 'metrics-partial';

/** Logs of one service in one minute, per level (the repartition topic's value). */
export interface PartialCounts {
  window_start: number;
  counts: Record<string, number>;
}

export function preAggregator(
  intervalMs: number,
): () => Processor<unknown, ParsedLog, string, PartialCounts> {
  return () => {
    let ctx: ProcessorContext<string, PartialCounts>;
    let partial: KeyValueStore<string, PartialCounts & { service: string }>;
    let template: StreamRecord<unknown, ParsedLog> | null = null;

    const flush = () => {
      if (!template) return;
      for (const [id, p] of [...partial.all()]) {
        ctx.forward({
          ...(template as unknown as StreamRecord<string, PartialCounts>),
          key: p.service,
          value: { window_start: p.window_start, counts: p.counts },
          timestamp: p.window_start,
          headers: {},
        });
        partial.delete(id);
      }
    };

    return {
      init(context) {
        ctx = context;
        partial = context.getStateStore(PARTIAL_STORE);
        if (intervalMs > 0) context.schedule(intervalMs, 'wall-clock', flush);
      },
      process(record) {
        const log = record.value;
        if (log === null || typeof log.service !== 'string') return;
        template = record;
        const start = windowStartOf(log.timestamp, MINUTE_MS);
        if (intervalMs === 0) {
          ctx.forward({
            ...(record as unknown as StreamRecord<string, PartialCounts>),
            key: log.service,
            value: { window_start: start, counts: { [log.level]: 1 } },
            timestamp: start,
          });
          return;
        }
        const id = `${log.service}\u0000${start}`;
        const current = partial.get(id);
        const counts = current ? { ...current.counts } : {};
        counts[log.level] = (counts[log.level] ?? 0) + 1;
        partial.put(id, { service: log.service, window_start: start, counts });
      },
    };
  };
}
