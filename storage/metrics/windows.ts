/**
 * Window math shared by the aggregate stage, the alert stage and the metric views: tumbling
 * windows aligned to epoch multiples of their size, the two resolutions LogFlow keeps, and the
 * duration strings of the API (`5m`, `1h`, `30d`).
 */
import { LogFlowError } from '../../common/errors.ts';
import type { MetricResolution } from './types.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export const RESOLUTION_MS: Record<MetricResolution, number> = { '1m': MINUTE_MS, '1h': HOUR_MS };

/** How long each resolution is kept by the views: 1m windows ~2 days, 1h windows ~31 days. */
export const RESOLUTION_RETENTION_MS: Record<MetricResolution, number> = {
  '1m': 2 * DAY_MS,
  '1h': 31 * DAY_MS,
};

/** Start of the tumbling window of `sizeMs` that holds `timestamp` (also for negative times). */
export function windowStartOf(timestamp: number, sizeMs: number): number {
  return timestamp - (((timestamp % sizeMs) + sizeMs) % sizeMs);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

/** Parses `30s`, `5m`, `1h`, `7d` into milliseconds; throws LF_ERR_UNSUPPORTED_RANGE otherwise. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) {
    throw new LogFlowError(
      'LF_ERR_UNSUPPORTED_RANGE',
      `Not a duration: "${text}" (expected e.g. 5m, 1h, 7d)`,
    );
  }
  return Number(match[1]) * UNIT_MS[match[2]];
}

/**
 * Which stored resolution answers a query: 1h windows when the range reaches past what 1m
 * windows keep (2 days) or when the bucket is a whole number of hours and the range is at least
 * 7 days; 1m windows otherwise. The effective bucket is never finer than the resolution.
 */
export function pickResolution(
  from: number,
  to: number,
  bucketMs: number,
  now: number = Date.now(),
): { resolution: MetricResolution; bucketMs: number } {
  const range = to - from;
  const reachesPastMinuteRetention = from < now - RESOLUTION_RETENTION_MS['1m'];
  const hourly = bucketMs % HOUR_MS === 0 && range >= 7 * DAY_MS;
  if (reachesPastMinuteRetention || hourly) {
    return { resolution: '1h', bucketMs: Math.max(HOUR_MS, Math.ceil(bucketMs / HOUR_MS) * HOUR_MS) };
  }
  return { resolution: '1m', bucketMs: Math.max(MINUTE_MS, Math.ceil(bucketMs / MINUTE_MS) * MINUTE_MS) };
}

/** Bucket starts covering [from, to), aligned to epoch multiples of `bucketMs`. */
export function bucketStarts(from: number, to: number, bucketMs: number): number[] {
  const starts: number[] = [];
  for (let t = windowStartOf(from, bucketMs); t < to; t += bucketMs) starts.push(t);
  return starts;
}
