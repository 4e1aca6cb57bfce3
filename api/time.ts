import { LogFlowError } from '../common/errors.ts';

/** The seed's metric time ranges and intervals, exactly. */
export const TIME_RANGES = {
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '12h': 12 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
} as const;
export const INTERVALS = {
  '1m': 60_000,
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
} as const;
export type TimeRange = keyof typeof TIME_RANGES;
export type Interval = keyof typeof INTERVALS;
export const TIME_RANGE_NAMES = Object.keys(TIME_RANGES) as TimeRange[];
export const INTERVAL_NAMES = Object.keys(INTERVALS) as Interval[];

/** "YYYY-MM-DD HH:mm:ss" (the seed's format, read as UTC) or ISO 8601 (UTC when no offset). */
export const TIME_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?)?(Z|[+-]\\d{2}:?\\d{2})?$';
const TIME_RE = new RegExp(TIME_PATTERN);

export const timeSchema = {
  type: 'string',
  maxLength: 40,
  pattern: TIME_PATTERN,
  description: '"YYYY-MM-DD HH:mm:ss" (UTC) or ISO 8601',
} as const;

/** Epoch ms of a time parameter; a 400 naming the field when it is not a real time. */
export function parseTime(value: string, field: string): number {
  const m = TIME_RE.exec(value);
  let text = value.replace(' ', 'T');
  // Without an offset JavaScript reads date-times as local time; LogFlow's times are UTC.
  if (m && !m[4] && text.includes('T')) text += 'Z';
  const ms = m ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new LogFlowError('LF_ERR_VALIDATION', `${field} is not a valid time: "${value}"`, {
      details: [{ in: 'request', path: `/${field}`, message: 'expected "YYYY-MM-DD HH:mm:ss" or ISO 8601' }],
    });
  }
  return ms;
}

/** Durations such as 30s, 5m, 1h, 1d (histogram intervals). */
export const DURATION_PATTERN = '^[1-9][0-9]{0,4}(s|m|h|d)$';
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(value: string): number {
  const unit = value.slice(-1) as keyof typeof UNIT_MS;
  return Number(value.slice(0, -1)) * UNIT_MS[unit];
}
