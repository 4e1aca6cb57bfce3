import { LogFlowError } from '../../common/errors.ts';

/**
 * Sliding windows (Kafka Streams' `SlidingWindows`, KIP-450): windows defined by the records
 * themselves rather than aligned to the epoch. For a record at time t the window [t − d, t]
 * ends at it, and the window [t + 1, t + 1 + d] starts just after it; both ends are inclusive, so
 * two records are in a common window exactly when their timestamps differ by at most d
 * (`timeDifferenceMs`). Only windows holding at least one record exist, so an aggregate is
 * produced each time a record enters or leaves the sliding span, never for an empty window.
 *
 * A window is closed once stream time > end + grace; a record is late (dropped and reported)
 * when every window that could hold it — the last ends at t + d — is closed.
 * Records with t < d share the window [0, d] instead of getting windows with negative starts.
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  /** Windows holding records at most `timeDifferenceMs` apart, open until `graceMs` after their end. */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    check(
      Number.isInteger(timeDifferenceMs) && timeDifferenceMs > 0,
      `time difference must be a positive integer (ms), got ${timeDifferenceMs}`,
    );
    check(
      Number.isInteger(graceMs) && graceMs >= 0,
      `grace must be zero or a positive integer (ms), got ${graceMs}`,
    );
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

  /** No grace: a window is closed as soon as stream time passes its end. */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /**
   * How long the store keeps a window after its start: a record still accepted (t + d + grace ≥
   * stream time) needs the windows starting from t − 2d to derive its own, so 2d + grace + 1.
   */
  get minRetentionMs(): number {
    return 2 * this.timeDifferenceMs + this.graceMs + 1;
  }

  toString(): string {
    return `SlidingWindows(timeDifference=${this.timeDifferenceMs}ms, grace=${this.graceMs}ms)`;
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new LogFlowError('LF_ERR_TOPOLOGY_INVALID', message);
}
