import { Observable } from 'rxjs';
import type { StreamRecord } from '../record.ts';
import type { Stage, StageContext } from '../stage.ts';

/** What a `Processor` gets: the stage context plus `forward` to pass records downstream. */
export interface ProcessorContext<KOut, VOut> extends StageContext {
  /** Sends a record to the next stages. May be called from `process` and from punctuators. */
  forward(record: StreamRecord<KOut, VOut>): void;
}

/**
 * The Processor API escape hatch. Lifecycle: one instance per task, made by the supplier when
 * the task starts; `init` once before the first record (declare punctuators there), `process`
 * per record, `close` once when the task is revoked or the runtime closes.
 */
export interface Processor<KIn, VIn, KOut = KIn, VOut = VIn> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

export type ProcessorSupplier<KIn, VIn, KOut = KIn, VOut = VIn> = () => Processor<KIn, VIn, KOut, VOut>;

export function processStage<KIn, VIn, KOut, VOut>(
  supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
): Stage<KIn, VIn, KOut, VOut> {
  return (ctx) => (source) =>
    new Observable<StreamRecord<KOut, VOut>>((subscriber) => {
      const processor = supplier();
      const context: ProcessorContext<KOut, VOut> = Object.assign(Object.create(ctx) as StageContext, {
        forward: (record: StreamRecord<KOut, VOut>) => subscriber.next(record),
      });
      try {
        processor.init?.(context);
      } catch (err) {
        ctx.reportError(err);
      }
      const subscription = source.subscribe({
        next(record) {
          try {
            processor.process(record);
          } catch (err) {
            ctx.reportError(err, record as StreamRecord<unknown, unknown>);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        try {
          processor.close?.();
        } catch (err) {
          ctx.reportError(err);
        }
      };
    });
}
