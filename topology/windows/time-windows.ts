import { LogFlowError } from '../../common/errors.ts';
import type { Window } from './windowed.ts';

/**
 * A window *specification* (Kafka Streams' `Windows`): which windows a timestamp falls into and
 * how long after its end a window still accepts records (grace). Tumbling when advance = size,
 * hopping when advance < size. Windows are aligned to the epoch: [k·advance, k·advance + size).
 * Built only through the factories, which validate their arguments.
 */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  /** Tumbling windows of `sizeMs` accepting records up to `graceMs` after they end. */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    check(sizeMs > 0 && Number.isFinite(sizeMs), `window size must be positive, got ${sizeMs}`);
    check(graceMs >= 0 && Number.isFinite(graceMs), `grace must be zero or positive, got ${graceMs}`);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  /** Tumbling windows with no grace: a record is late as soon as stream time reaches the window end. */
  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /** Hopping windows: a new window starts every `advanceMs` (0 < advance ≤ size), so windows overlap. */
  advanceBy(advanceMs: number): TimeWindows {
    check(
      advanceMs > 0 && advanceMs <= this.sizeMs,
      `advance must be in (0, size=${this.sizeMs}], got ${advanceMs}`,
    );
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  get kind(): 'tumbling' | 'hopping' {
    return this.advanceMs === this.sizeMs ? 'tumbling' : 'hopping';
  }

  /** Start times of every window containing `timestamp`, oldest first. Negative starts are skipped. */
  windowStartsFor(timestamp: number): number[] {
    const starts: number[] = [];
    let start = Math.floor(timestamp / this.advanceMs) * this.advanceMs;
    while (start > timestamp - this.sizeMs && start >= 0) {
      starts.push(start);
      start -= this.advanceMs;
    }
    return starts.reverse();
  }

  windowFor(start: number): Window {
    return { start, end: start + this.sizeMs };
  }

  toString(): string {
    return this.kind === 'tumbling'
      ? `TimeWindows(size=${this.sizeMs}ms, grace=${this.graceMs}ms)`
      : `TimeWindows(size=${this.sizeMs}ms, advance=${this.advanceMs}ms, grace=${this.graceMs}ms)`;
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new LogFlowError('LF_ERR_TOPOLOGY_INVALID', message);
}
