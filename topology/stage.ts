import type { OperatorFunction } from 'rxjs';
import type { StreamRecord } from './record.ts';
import type { StateStore } from './stores/state-store.ts';

export type PunctuationType = 'stream-time' | 'wall-clock';

export interface Cancellable {
  cancel(): void;
}

/**
 * What a stage sees of the task running it. One context per (task, stage); it lives as long as
 * the task (until its partition is revoked or the runtime closes).
 */
export interface StageContext {
  readonly applicationId: string;
  /** The stage's node name (also its `stage` metric label). */
  readonly stageName: string;
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly taskId: string;
  readonly partition: number;
  /** The largest record timestamp this task has seen (-Infinity before the first record). */
  streamTime(): number;
  /** Wall-clock time (virtual in the test driver). */
  wallClockTime(): number;
  /** A store this stage declared; throws LF_ERR_STATE_STORE for any other name. */
  getStateStore<S extends StateStore = StateStore>(name: string): S;
  /**
   * Calls `callback` every `intervalMs` of stream time (checked after each record) or of wall
   * clock time. Records forwarded from a punctuator are flushed like any other output.
   */
  schedule(intervalMs: number, type: PunctuationType, callback: (timestamp: number) => void): Cancellable;
  /**
   * Hands a record that failed in this stage to the processing error handler (continue, fail, or
   * dead-letter). Never throws: a bad record must not end the stream. With `fail` the task stops
   * after the current record.
   */
  reportError(error: unknown, record?: StreamRecord<unknown, unknown>): void;
  /**
   * Runs `callback` before the task hands over its outputs (after every batch, punctuation and
   * commit; after every piped record in the test driver). Stages that cache updates (windowed
   * aggregates emit the latest value per window once per batch) emit them here.
   */
  onFlush(callback: () => void): void;
  /**
   * Runs `callback` each time the task's stores were restored from their changelogs (when its
   * partition is assigned, after a crash or a rebalance, and when a kept task caught up with what
   * another instance wrote), before the next record, with the restored stream time. Stages that
   * keep in-memory bookkeeping derived from a store (final-only windows awaiting emission)
   * rebuild it here: the restored store, not the first new record, says what is pending.
   */
  onRestored(callback: (streamTime: number) => void): void;
  /** Counts a record that arrived after its window closed, and routes it to the late topic if one is set. */
  reportLate(record: StreamRecord<unknown, unknown>): void;
}

/**
 * A stage is an RxJS operator over records, made per task from its context. Stages never let a
 * record's failure travel as an Observable `error` (which would end the stream for good): they
 * catch it and call `ctx.reportError`.
 */
export type Stage<KIn, VIn, KOut, VOut> = (
  ctx: StageContext,
) => OperatorFunction<StreamRecord<KIn, VIn>, StreamRecord<KOut, VOut>>;

// biome-ignore lint/suspicious/noExplicitAny: a graph node accepts stages of any record type
export type AnyStage = Stage<any, any, any, any>;
