import { Observable, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../record.ts';
import type { StageContext } from '../stage.ts';

/**
 * The building block of every built-in stage: calls `handle` once per record with an `emit`
 * callback, and turns anything `handle` throws into `ctx.reportError` so one bad record never
 * ends the stream. `new Observable` with the inner subscription as teardown.
 */
export function perRecord<KI, VI, KO, VO>(
  ctx: StageContext,
  handle: (record: StreamRecord<KI, VI>, emit: (out: StreamRecord<KO, VO>) => void) => void,
): OperatorFunction<StreamRecord<KI, VI>, StreamRecord<KO, VO>> {
  return (source) =>
    new Observable<StreamRecord<KO, VO>>((subscriber) => {
      const emit = (out: StreamRecord<KO, VO>) => subscriber.next(out);
      return source.subscribe({
        next(record) {
          try {
            handle(record, emit);
          } catch (err) {
            ctx.reportError(err, record as StreamRecord<unknown, unknown>);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
