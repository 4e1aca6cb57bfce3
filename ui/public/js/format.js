/** Formatting shared by the views (numbers, times, levels). Pure functions, no DOM. */

export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'UNKNOWN'];
/** The levels offered as filters first; TRACE and UNKNOWN are rare but still selectable. */
export const COMMON_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

export const LEVEL_COLORS = {
  TRACE: '#9ca3af',
  DEBUG: '#64748b',
  INFO: '#2563eb',
  WARN: '#d97706',
  ERROR: '#dc2626',
  FATAL: '#7f1d1d',
  UNKNOWN: '#9333ea',
};

/** The seed's metric time ranges and intervals, exactly (api/time.ts). */
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
};
export const INTERVALS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000 };
/** The API refuses a timeseries of more points than this (LF_ERR_UNSUPPORTED_RANGE). */
export const MAX_POINTS = 5_000;

/** Intervals the API accepts for a range (at most MAX_POINTS points). */
export function intervalsFor(range) {
  return Object.keys(INTERVALS).filter((i) => Math.ceil(TIME_RANGES[range] / INTERVALS[i]) <= MAX_POINTS);
}

/** A readable default: about 5–60 points per chart. */
export function defaultInterval(range) {
  const ms = TIME_RANGES[range];
  if (ms <= 30 * 60_000) return '1m';
  if (ms <= 6 * 3_600_000) return '5m';
  if (ms <= 12 * 3_600_000) return '15m';
  if (ms <= 24 * 3_600_000) return '30m';
  return '1h';
}

const nf = new Intl.NumberFormat('en-US');
export function formatNumber(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return nf.format(Math.round(n * 100) / 100);
}

/** 12345 → "12.3k" for axis labels. */
export function compactNumber(n) {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1).replace(/\.0$/, '')}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1).replace(/\.0$/, '')}k`;
  return String(Math.round(n * 100) / 100);
}

export function formatPercent(fraction) {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(fraction > 0 && fraction < 0.001 ? 3 : 1)}%`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "2026-11-28 00:23:20.123" in UTC (LogFlow's times are UTC). */
export function formatTime(value, { ms = true } = {}) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value ?? '');
  const base =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return ms ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}

/** A short axis label for a time, given the span the axis covers. */
export function axisTime(ms, spanMs) {
  const d = new Date(ms);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (spanMs <= 10 * 60_000) return `${hm}:${pad(d.getUTCSeconds())}`;
  if (spanMs <= 36 * 3_600_000) return hm;
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds % 86_400 === 0 && seconds > 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A datetime-local value ("2026-11-28T00:23") read as UTC → ISO, or undefined when empty. */
export function utcInputToIso(value) {
  if (!value) return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
