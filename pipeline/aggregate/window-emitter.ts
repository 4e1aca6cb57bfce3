/**
 * Coalesces window updates before they reach `logs-metrics`. The windowed aggregate produces one
 * update per log; emitting each would double the pipeline's write volume for no reader's benefit
 * (every update carries the window's full counts). This processor keeps only the newest update
 * of each window in a changelog-backed store and forwards the pending ones every `intervalMs` of
 * wall-clock time — Kafka Streams' record cache, made explicit. Because the pending set is a
 * logged store, an update accepted before a commit is emitted even if the process dies before
 * the next flush (the restored store still holds it).
 *
 * With `intervalMs` 0 every update is forwarded at once.
 */

import type { MetricWindow } from '../../storage/metrics/types.ts';
import type { StreamRecord } from '../../topology/record.ts';
import type { Processor, ProcessorContext } from '../../topology/stages/process.ts';
import type { KeyValueStore } from '../../topology/stores/state-store.ts';

export const PENDING_STORE = 'metrics-pending';

export function windowEmitter(
  intervalMs: number,
): () => Processor<string, MetricWindow, string, MetricWindow> {
  return () => {
    let ctx: ProcessorContext<string, MetricWindow>;
    let pending: KeyValueStore<string, MetricWindow>;
    let template: StreamRecord<string, MetricWindow> | null = null;

    const flush = () => {
      if (!template) return;
      const windows = [...pending.all()];
      for (const [id, window] of windows) {
        ctx.forward({
          ...template,
          key: window.service,
          value: window,
          timestamp: window.window_start,
          headers: {},
        });
        pending.delete(id);
      }
    };

    return {
      init(context) {
        ctx = context;
        pending = context.getStateStore<KeyValueStore<string, MetricWindow>>(PENDING_STORE);
        if (intervalMs > 0) context.schedule(intervalMs, 'wall-clock', flush);
      },
      process(record) {
        template = record;
        if (intervalMs === 0) {
          ctx.forward({
            ...record,
            key: record.value.service,
            timestamp: record.value.window_start,
            headers: {},
          });
          return;
        }
        const w = record.value;
        const id = `${w.resolution ?? '1m'}|${w.service}|${w.window_start}`;
        const current = pending.get(id);
        if (!current || current.version < w.version) pending.put(id, w);
      },
    };
  };
}
