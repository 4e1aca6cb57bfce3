import { describe, expect, it } from 'vitest';
import {
  addLevel,
  emptyCounts,
  errorRate,
  toMetricWindow,
} from '../../../pipeline/aggregate/level-counts.ts';
import {
  bucketStarts,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  parseDuration,
  pickResolution,
  windowStartOf,
} from '../../../storage/metrics/windows.ts';

const T = Date.UTC(2026, 10, 27, 12, 34, 56, 789);

describe('window math', () => {
  it('aligns window starts to epoch multiples of the size', () => {
    expect(windowStartOf(T, MINUTE_MS)).toBe(Date.UTC(2026, 10, 27, 12, 34));
    expect(windowStartOf(T, HOUR_MS)).toBe(Date.UTC(2026, 10, 27, 12));
    expect(windowStartOf(Date.UTC(2026, 10, 27, 12, 35), MINUTE_MS)).toBe(Date.UTC(2026, 10, 27, 12, 35));
    expect(windowStartOf(-1, MINUTE_MS)).toBe(-MINUTE_MS);
  });

  it('puts every timestamp inside its window [start, start + size)', () => {
    for (let i = 0; i < 1000; i++) {
      const ts = Math.floor(Math.random() * 2 ** 42);
      for (const size of [MINUTE_MS, HOUR_MS]) {
        const start = windowStartOf(ts, size);
        expect(start).toBeLessThanOrEqual(ts);
        expect(ts).toBeLessThan(start + size);
        expect(start % size).toBe(0);
      }
    }
  });

  it('parses durations and rejects garbage', () => {
    expect(parseDuration('5m')).toBe(5 * MINUTE_MS);
    expect(parseDuration('30d')).toBe(30 * DAY_MS);
    expect(() => parseDuration('5x')).toThrow(/duration/);
    expect(() => parseDuration('0m')).toThrow();
  });

  it('picks 1m windows for short ranges and 1h windows for long ones', () => {
    const now = T;
    expect(pickResolution(now - HOUR_MS, now, 5 * MINUTE_MS, now)).toEqual({
      resolution: '1m',
      bucketMs: 5 * MINUTE_MS,
    });
    expect(pickResolution(now - 7 * DAY_MS, now, HOUR_MS, now)).toEqual({
      resolution: '1h',
      bucketMs: HOUR_MS,
    });
    // A 30-day range asked at 5m can only be answered from hourly windows.
    expect(pickResolution(now - 30 * DAY_MS, now, 5 * MINUTE_MS, now)).toEqual({
      resolution: '1h',
      bucketMs: HOUR_MS,
    });
    expect(pickResolution(now - 24 * HOUR_MS, now, HOUR_MS, now)).toEqual({
      resolution: '1m',
      bucketMs: HOUR_MS,
    });
  });

  it('lists aligned bucket starts covering the range', () => {
    const from = Date.UTC(2026, 10, 27, 12, 3);
    const starts = bucketStarts(from, from + 15 * MINUTE_MS, 5 * MINUTE_MS);
    expect(starts).toEqual([0, 5, 10, 15].map((m) => Date.UTC(2026, 10, 27, 12, m)));
  });
});

describe('level counts', () => {
  it('counts per level, totals and error rate', () => {
    let agg = emptyCounts();
    for (const level of ['INFO', 'INFO', 'ERROR', 'FATAL', 'WARN']) agg = addLevel(agg, level);
    expect(agg).toEqual({ counts: { INFO: 2, ERROR: 1, FATAL: 1, WARN: 1 }, total: 5 });
    expect(errorRate(agg.counts, agg.total)).toBeCloseTo(0.4);
    expect(errorRate({}, 0)).toBe(0);
    const w = toMetricWindow('svc', Date.UTC(2026, 10, 27, 12), '1m', agg);
    expect(w).toMatchObject({
      window_end: Date.UTC(2026, 10, 27, 12, 1),
      total: 5,
      version: 5,
      resolution: '1m',
    });
  });

  it('never mutates the previous value (store values are shared)', () => {
    const a = emptyCounts();
    const b = addLevel(a, 'INFO');
    expect(a.total).toBe(0);
    expect(b.total).toBe(1);
  });
});
