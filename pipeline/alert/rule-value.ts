/**
 * What a rule measures over a service's recent 1-minute windows.
 *
 * The rule's range is (now - window_seconds, now]; every 1m window that overlaps it counts in
 * full. So the value is an upper bound of the exact sliding count (by at most one window) and a
 * burst straddling a minute boundary is never split in two halves that each stay below the
 * threshold. A 60 s rule therefore sees the current and the previous minute.
 */
import type { AlertRule } from '../../storage/db/types.ts';

export interface WindowCounts {
  window_start: number;
  window_end: number;
  counts: Record<string, number>;
  total: number;
}

export function windowsInRange(
  windows: readonly WindowCounts[],
  now: number,
  windowSeconds: number,
): WindowCounts[] {
  const from = now - windowSeconds * 1000;
  return windows.filter((w) => w.window_end > from && w.window_start <= now);
}

function countLevels(w: WindowCounts, levels: readonly string[]): number {
  if (levels.length === 0) return w.total;
  let n = 0;
  for (const level of levels) n += w.counts[level] ?? 0;
  return n;
}

/** count_above and absence: logs of the rule's levels (all when empty); error_rate_above: (ERROR+FATAL)/total. */
export function ruleValue(
  rule: Pick<AlertRule, 'condition' | 'levels' | 'window_seconds'>,
  windows: readonly WindowCounts[],
  now: number,
): number {
  const inRange = windowsInRange(windows, now, rule.window_seconds);
  if (rule.condition === 'error_rate_above') {
    let errors = 0;
    let total = 0;
    for (const w of inRange) {
      errors += (w.counts.ERROR ?? 0) + (w.counts.FATAL ?? 0);
      total += w.total;
    }
    return total === 0 ? 0 : errors / total;
  }
  let n = 0;
  for (const w of inRange) n += countLevels(w, rule.levels);
  return n;
}
